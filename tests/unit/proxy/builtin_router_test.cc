// proxy/builtin_router: the shop's paths pass without allocating, the
// routes dispatch, the rest of /.tidegate/ is 404, and every spelling that
// normalises into /.tidegate is still caught (the same set as before the
// router).
#include "proxy/builtin_router.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <new>

#include "proxy/path_normalizer.h"

// Counts allocations made by this test binary while `g_counting` is set.
namespace {
bool g_counting = false;
size_t g_allocations = 0;
}  // namespace

// Every plain and array form goes through malloc/free, so that a sanitizer
// runtime (which provides the forms not replaced here) never sees a
// mismatched pair.
void* operator new(std::size_t size) {
  if (g_counting) ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  if (g_counting) ++g_allocations;
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
// GCC 12 cannot see that these frees pair with the replaced operator new
// above (which mallocs), and warns -Wmismatched-new-delete.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace tidegate::proxy {
namespace {

class RecordingCallbacks : public FilterCallbacks {
 public:
  void AbortResponse() override {}
  void SendLocalReply(int s, HeaderList h, std::string b, Answerer a) override {
    ++replies;
    status = s;
    headers = std::move(h);
    body = std::move(b);
    answered_by = a;
  }
  void ContinueRequest() override {}
  const StreamInfo& stream_info() const override { return info; }
  const WorkerContext& worker() const override { return context; }

  int replies = 0;
  int status = 0;
  HeaderList headers;
  std::string body;
  Answerer answered_by = Answerer::kCount;
  StreamInfo info;
  WorkerContext context;
};

// A page that records what it served; `reply` < 0: declines (kContinue);
// 0: answers later (kStop without a reply, like a gate waiting for a store).
class FakePage : public FilterFactory {
 public:
  FakePage(std::string name, int reply) : name_(std::move(name)), reply_(reply) {}

  struct Log {
    int created = 0;
    int destroyed = 0;
    std::string last_target;
  };
  std::unique_ptr<StreamFilter> CreateFilter(FilterCallbacks& callbacks) const override {
    ++log_.created;
    return std::make_unique<Filter>(*this, callbacks);
  }
  const Log& log() const { return log_; }

 private:
  class Filter : public StreamFilter {
   public:
    Filter(const FakePage& page, FilterCallbacks& callbacks) : page_(page), callbacks_(callbacks) {}
    FilterStatus OnRequestHeaders(RequestHead& head) override {
      page_.log_.last_target = head.target;
      if (page_.reply_ < 0) return FilterStatus::kContinue;
      if (page_.reply_ > 0) {
        callbacks_.SendLocalReply(page_.reply_, {}, page_.name_, Answerer::kQueue);
      }
      return FilterStatus::kStop;
    }
    void OnDestroy() override { ++page_.log_.destroyed; }

   private:
    const FakePage& page_;
    FilterCallbacks& callbacks_;
  };
  std::string name_;
  int reply_;
  mutable Log log_;
};

class BuiltinRouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add("/.tidegate/assets/banner.css", PathCase::kExact, css_);
    router_.Add("/.tidegate/health", PathCase::kIgnore, health_);
    router_.Add("/.tidegate/queue", PathCase::kIgnore, queue_);
    router_.Add("/.tidegate/declines", PathCase::kIgnore, declines_);
  }
  // Runs one request through a fresh router filter; returns its status.
  FilterStatus Run(const std::string& target, RecordingCallbacks& callbacks,
                   const char* accept = nullptr, const char* method = "GET") {
    RequestHead head;
    head.method = method;
    head.target = target;
    if (accept != nullptr) head.headers.Add("Accept", accept);
    auto filter = router_.CreateFilter(callbacks);
    FilterStatus status = filter->OnRequestHeaders(head);
    filter->OnDestroy();
    return status;
  }

  BuiltinRouterFactory router_;
  std::shared_ptr<FakePage> css_ = std::make_shared<FakePage>("css", 200);
  std::shared_ptr<FakePage> health_ = std::make_shared<FakePage>("health", 200);
  std::shared_ptr<FakePage> queue_ = std::make_shared<FakePage>("queue", 0);
  std::shared_ptr<FakePage> declines_ = std::make_shared<FakePage>("declines", -1);
};

const char* const kShopTargets[] = {
    "/",
    "/checkout",
    "/products/shoes-42.html?colour=red&size=%2042",  // escapes in the query only
    "/search?q=caf%C3%A9#top",
    "/tidegate",
    "/shop?next=/.tidegate/health",
    "/static/app.min.js",
};

TEST_F(BuiltinRouterTest, ShopPathsContinueWithoutAllocating) {
  for (const char* target : kShopTargets) {
    RequestHead head;
    head.method = "GET";
    head.target = target;
    g_allocations = 0;
    g_counting = true;
    bool applies = router_.AppliesTo(head);  // what Stream::Begin asks before creating the filter
    g_counting = false;
    EXPECT_FALSE(applies) << target << ": no router filter is created";
    EXPECT_EQ(g_allocations, 0u) << target;
    // A router filter created anyway lets the request through without allocating.
    RecordingCallbacks callbacks;
    auto filter = router_.CreateFilter(callbacks);
    g_allocations = 0;
    g_counting = true;
    FilterStatus status = filter->OnRequestHeaders(head);
    g_counting = false;
    EXPECT_EQ(status, FilterStatus::kContinue) << target;
    EXPECT_EQ(g_allocations, 0u) << target;
    EXPECT_EQ(callbacks.replies, 0) << target;
  }
}

TEST_F(BuiltinRouterTest, NearMissesAreNormalisedThenContinue) {
  // They spell ".tidegate": the cheap test cannot rule them out.
  for (const char* target : {"/.tidegatex", "/a/.tidegate", "/.tidegate-shop/x", "/%41"}) {
    EXPECT_TRUE(MayBeBuiltinTarget(target)) << target;
    RecordingCallbacks callbacks;
    EXPECT_EQ(Run(target, callbacks), FilterStatus::kContinue) << target;
    EXPECT_EQ(callbacks.replies, 0) << target;
  }
}

TEST_F(BuiltinRouterTest, TheCheapTestRulesOutShopPathsWithoutAllocating) {
  g_allocations = 0;
  g_counting = true;
  bool any = false;
  for (const char* target : kShopTargets) any = any || IsBuiltinTarget(target);
  g_counting = false;
  EXPECT_FALSE(any);
  // "/a/.tidegate" and "/.tidegatex" spell the word: they are normalised, and
  // only those.
  EXPECT_TRUE(MayBeBuiltinTarget("/a/.tidegate"));
  EXPECT_FALSE(MayBeBuiltinTarget("/checkout?x=%20"));
}

// The byte-at-a-time definition the word-at-a-time scan must agree with.
bool MayBeBuiltinReference(std::string_view target) {
  for (size_t i = 0; i < target.size(); ++i) {
    char c = target[i];
    if (c == '?' || c == '#') return false;
    if (c == '%') return true;
    if (c == '.' && target.size() - i > 8 &&
        EqualsIgnoreCase(target.substr(i + 1, 8), "tidegate")) {
      return true;
    }
  }
  return false;
}

TEST(MayBeBuiltinTargetTest, AgreesWithTheByteAtATimeScanAtEveryOffset) {
  // Each special byte (and ".TideGate") at every offset of paths long enough
  // to take the eight-bytes-per-step shortcut, with a query or fragment
  // before or after it.
  const std::string filler = "/products/winter-jackets/blue-and-green-size-l";
  for (std::string_view insert :
       {".", "%", "?", "#", ".TideGate", ".tidegat", "?.tidegate", "#%", "/.tidegate/health"}) {
    for (size_t at = 0; at <= filler.size(); ++at) {
      std::string target = filler;
      target.insert(at, insert);
      EXPECT_EQ(MayBeBuiltinTarget(target), MayBeBuiltinReference(target)) << target;
      for (size_t cut = 0; cut <= target.size(); ++cut) {
        std::string_view prefix(target.data(), cut);
        ASSERT_EQ(MayBeBuiltinTarget(prefix), MayBeBuiltinReference(prefix)) << prefix;
      }
    }
  }
  EXPECT_TRUE(MayBeBuiltinTarget("/products/winter-jackets/%2etidegate/health"));
  EXPECT_TRUE(MayBeBuiltinTarget("/products/winter-jackets/.TIDEGATE/health"));
  EXPECT_FALSE(MayBeBuiltinTarget("/products/winter-jackets?next=/.tidegate/health"));
  EXPECT_FALSE(MayBeBuiltinTarget("/products/winter-jackets/blue-and-green-size-l"));
}

TEST_F(BuiltinRouterTest, RoutesDispatchToTheirPage) {
  RecordingCallbacks health;
  EXPECT_EQ(Run("/.tidegate/health", health), FilterStatus::kStop);
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "health");
  EXPECT_EQ(health_->log().created, 1);
  EXPECT_EQ(health_->log().destroyed, 1) << "OnDestroy reaches the page";

  RecordingCallbacks css;
  EXPECT_EQ(Run("/.tidegate/assets/banner.css?v=3", css), FilterStatus::kStop);
  EXPECT_EQ(css.body, "css");
  EXPECT_EQ(css_->log().last_target, "/.tidegate/assets/banner.css?v=3") << "the raw target";
  EXPECT_EQ(queue_->log().created, 0);
}

TEST_F(BuiltinRouterTest, AnAsynchronousPageIsKeptAndToldWhenTheExchangeEnds) {
  RecordingCallbacks callbacks;
  RequestHead head;
  head.method = "GET";
  head.target = "/.tidegate/queue?room=shop";
  auto filter = router_.CreateFilter(callbacks);
  EXPECT_EQ(filter->OnRequestHeaders(head), FilterStatus::kStop);
  EXPECT_EQ(callbacks.replies, 0) << "answers later";
  EXPECT_EQ(queue_->log().destroyed, 0);
  filter->OnDestroy();  // the client went away
  EXPECT_EQ(queue_->log().destroyed, 1);
}

TEST_F(BuiltinRouterTest, OtherReservedPathsAre404) {
  for (const char* target : {"/.tidegate", "/.tidegate/", "/.tidegate/nope", "//.tidegate/x",
                             "/.tidegate/health/x", "/.tidegate/declines"}) {
    RecordingCallbacks callbacks;
    EXPECT_EQ(Run(target, callbacks), FilterStatus::kStop) << target;
    EXPECT_EQ(callbacks.status, 404) << target;
    EXPECT_EQ(callbacks.replies, 1) << target;
    EXPECT_EQ(callbacks.answered_by, Answerer::kBuiltin) << target;
    EXPECT_EQ(*callbacks.headers.Find("Cache-Control"), "no-store") << target;
  }
  EXPECT_EQ(declines_->log().created, 1) << "asked first, declined";
  RecordingCallbacks json;
  Run("/.tidegate/nope", json, "application/json");
  EXPECT_NE(json.headers.Find("Content-Type")->find("json"), std::string::npos);
}

// Audit 19 F11: every route answers the methods it does not serve with 405
// and its Allow field, without asking the page; GET and HEAD reach it.
TEST_F(BuiltinRouterTest, OtherMethodsAre405WithAllow) {
  for (const char* target :
       {"/.tidegate/health", "/.tidegate/queue", "/.tidegate/assets/banner.css",
        "/.tidegate/declines", "/%2Etidegate/HEALTH"}) {
    for (const char* method : {"PUT", "DELETE", "POST", "OPTIONS", "TRACE", "PATCH", "get"}) {
      RecordingCallbacks callbacks;
      EXPECT_EQ(Run(target, callbacks, nullptr, method), FilterStatus::kStop) << target;
      EXPECT_EQ(callbacks.status, 405) << method << " " << target;
      EXPECT_EQ(callbacks.replies, 1) << method << " " << target;
      ASSERT_NE(callbacks.headers.Find("Allow"), nullptr) << method << " " << target;
      EXPECT_EQ(*callbacks.headers.Find("Allow"), "GET, HEAD");
      EXPECT_EQ(*callbacks.headers.Find("Cache-Control"), "no-store");
      EXPECT_EQ(callbacks.answered_by, Answerer::kBuiltin);
    }
  }
  EXPECT_EQ(health_->log().created + queue_->log().created + css_->log().created +
                declines_->log().created,
            0)
      << "no page was asked";
  RecordingCallbacks json;
  Run("/.tidegate/health", json, "application/json", "DELETE");
  EXPECT_NE(json.headers.Find("Content-Type")->find("json"), std::string::npos);
  RecordingCallbacks head;
  EXPECT_EQ(Run("/.tidegate/health", head, nullptr, "HEAD"), FilterStatus::kStop);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "health");
  RecordingCallbacks unknown;
  Run("/.tidegate/nope", unknown, nullptr, "PUT");
  EXPECT_EQ(unknown.status, 404) << "no such page: 404 whatever the method";
}

TEST(AllowsMethodTest, ExactTokens) {
  EXPECT_TRUE(AllowsMethod("GET, HEAD", "GET"));
  EXPECT_TRUE(AllowsMethod("GET, HEAD", "HEAD"));
  EXPECT_TRUE(AllowsMethod("GET,HEAD, OPTIONS", "OPTIONS"));
  EXPECT_FALSE(AllowsMethod("GET, HEAD", "head"));
  EXPECT_FALSE(AllowsMethod("GET, HEAD", "GE"));
  EXPECT_FALSE(AllowsMethod("GET, HEAD", ""));
  EXPECT_FALSE(AllowsMethod("", "GET"));
}

TEST_F(BuiltinRouterTest, DisguisedSpellingsReachTheSameRoute) {
  for (const char* target : {"//.tidegate/health", "/%2Etidegate/health", "/%2etidegate/health",
                             "/x/../.tidegate/health", "/.TIDEGATE/health", "/.tidegate/HEALTH",
                             "/.tidegate;x/health", "/./.tidegate/health?a", "/;p/.tidegate/health",
                             "/.%74idegate/health", "/x/%2E%2E/.tidegate/health"}) {
    RecordingCallbacks callbacks;
    EXPECT_EQ(Run(target, callbacks), FilterStatus::kStop) << target;
    EXPECT_EQ(callbacks.status, 200) << target;
    EXPECT_EQ(callbacks.body, "health") << target;
  }
}

TEST_F(BuiltinRouterTest, AnExactRouteIgnoresOtherCases) {
  // The stylesheet always matched byte for byte: other cases are 404 (the
  // reserved space itself is case-insensitive).
  for (const char* target : {"/.tidegate/assets/BANNER.css", "/.TIDEGATE/assets/banner.css"}) {
    RecordingCallbacks callbacks;
    Run(target, callbacks);
    EXPECT_EQ(callbacks.status, 404) << target;
  }
  RecordingCallbacks escaped;
  Run("/.tidegate/assets/%62anner.css", escaped);
  EXPECT_EQ(escaped.body, "css") << "unreserved escapes decode before matching";
}

// The reserved space as it was decided before the router: normalise (params
// stripped, lower case), then "/.tidegate" or below.
bool ReferenceIsBuiltin(std::string_view target) {
  std::string path = NormalizePath(target, {.strip_segment_params = true, .lower_case = true});
  return path.compare(0, 10, "/.tidegate") == 0 && (path.size() == 10 || path[10] == '/');
}

TEST(BuiltinTargetTest, SameReservedSpaceAsBefore) {
  const char* prefixes[] = {"", "/", "//", "/x/../", "/./", "/;p/", "/%2E%2E/", "http://h/../../"};
  const char* names[] = {".tidegate",   ".TideGate",   "%2Etidegate", ".%74idegate",
                         ".tidegate;x", "tidegate",    ".tidegatex",  "%2etidegate",
                         "..tidegate",  ".tide%67ate", "%2Ftidegate"};
  const char* suffixes[] = {"", "/", "/health", "?a", "#f", "/x?y=%20", "/..", "/../a"};
  int checked = 0;
  for (const char* p : prefixes) {
    for (const char* n : names) {
      for (const char* s : suffixes) {
        std::string target = std::string(p) + n + s;
        bool expected = ReferenceIsBuiltin(target);
        EXPECT_EQ(IsBuiltinTarget(target), expected) << target;
        if (expected) {
          EXPECT_TRUE(MayBeBuiltinTarget(target)) << target;
        }
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 500);
}

}  // namespace
}  // namespace tidegate::proxy
