// queue/queue_reply: the URL of the queue page's "check again" link is built
// from the normalised path, never the raw request target (issue 11).
#include "queue/queue_reply.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "proxy/path_normalizer.h"
#include "queue/cookies.h"

namespace tidegate::queue {
namespace {

bool PointsElsewhere(const std::string& url) {
  return url.empty() || url[0] != '/' || (url.size() > 1 && (url[1] == '/' || url[1] == '\\'));
}

TEST(SelfUrlTest, NeverStartsWithTwoSlashesOrASlashAndABackslash) {
  for (std::string_view target :
       {"//evil.example/../checkout", "//evil.example/checkout", "///evil.example/x",
        "/\\evil.example", "/\\evil.example/checkout?x=1", "\\\\evil.example", "/\\/evil.example",
        "/./\\evil.example", "/.//evil.example", "/%2F%2Fevil.example", "/%5Cevil.example",
        "//evil.example", "/../\\evil.example", "http://evil.example/x", "", "?//evil.example",
        "*"}) {
    std::string url = SelfUrl(target);
    EXPECT_FALSE(PointsElsewhere(url)) << target << " -> " << url;
    EXPECT_EQ(url.find('\\'), std::string::npos) << target << " -> " << url;
  }
}

// The room gate hands its own normalisation (default options) to SelfUrl:
// the link is the same as normalising again, ";params" included.
TEST(SelfUrlTest, ReusingTheGatesNormalisationChangesNothing) {
  for (std::string_view target :
       {"/checkout", "//evil.example/../checkout", "/\\evil.example", "/%63art?q=%2F%2F",
        "/cart;jsessionid=1?x=1#top", "/a;p=1/b", "/a/./b/../c/", "/Product/42?size=42", "/x?y;z",
        "", "*", "/cart?x=\"<script>"}) {
    EXPECT_EQ(SelfUrl(target, proxy::NormalizePath(target)), SelfUrl(target)) << target;
  }
}

// SelfUrlInPlace: the target itself (up to its fragment) exactly when
// SelfUrl would give those bytes for a plain target; never another link.
TEST(SelfUrlTest, InPlaceOnlyWhenTheLinkIsTheTargetItself) {
  for (std::string_view target : {"/checkout",
                                  "/small.html",
                                  "/Product/42?size=42&color=red",
                                  "/x?y;z",
                                  "/a?b?c#d",
                                  "/shop/#frag",
                                  "/cart#top",
                                  "/",
                                  "//evil.example/../checkout",
                                  "/\\evil.example",
                                  "/%63art?q=%2F%2F",
                                  "/cart;jsessionid=1?x=1#top",
                                  "/a;p=1/b",
                                  "/a/./b/../c/",
                                  "",
                                  "*",
                                  "/cart?x=\"<script>",
                                  "/caf\xC3\xA9",
                                  "/a//b",
                                  "/a/b/..",
                                  "?q",
                                  "/x?a=%zz"}) {
    std::string normalized = proxy::NormalizePath(target);
    std::optional<std::string_view> in_place = SelfUrlInPlace(target, normalized);
    if (in_place) {
      EXPECT_EQ(in_place->data(), target.data()) << target << ": a view of the target";
      EXPECT_EQ(*in_place, SelfUrl(target, normalized)) << target;
    }
  }
  auto in_place = [](std::string_view target) {
    return SelfUrlInPlace(target, proxy::NormalizePath(target)).has_value();
  };
  EXPECT_TRUE(in_place("/checkout"));
  EXPECT_TRUE(in_place("/Product/42?size=42&color=red"));
  EXPECT_TRUE(in_place("/cart#top"));
  EXPECT_TRUE(in_place("/x?y;z"));
  EXPECT_FALSE(in_place("//evil.example/../checkout"));
  EXPECT_FALSE(in_place("/\\evil.example"));
  EXPECT_FALSE(in_place("/%63art"));
  EXPECT_FALSE(in_place("/a;p=1/b"));
  EXPECT_FALSE(in_place("/cart?x=\"<script>"));
  EXPECT_FALSE(in_place("/a/./b"));
}

TEST(SelfUrlTest, TheNormalisedPathAndTheOriginalQuery) {
  EXPECT_EQ(SelfUrl("//evil.example/../checkout"), "/checkout");
  EXPECT_EQ(SelfUrl("/\\evil.example"), "/%5Cevil.example");
  EXPECT_EQ(SelfUrl("/checkout"), "/checkout");
  EXPECT_EQ(SelfUrl("/Product/42?size=42&color=red"), "/Product/42?size=42&color=red");
  EXPECT_EQ(SelfUrl("/cart;jsessionid=1?x=1#top"), "/cart;jsessionid=1?x=1");
  EXPECT_EQ(SelfUrl("/a/./b/../c/"), "/a/c/");
  EXPECT_EQ(SelfUrl("/%63art?q=%2F%2F"), "/cart?q=%2F%2F");
  // Bytes a link may not carry unescaped are percent-encoded (the page
  // HTML-escapes on top).
  EXPECT_EQ(SelfUrl("/cart?x=\"<script>"), "/cart?x=%22%3Cscript%3E");
  EXPECT_EQ(SelfUrl("/cart?next=\\\\evil"), "/cart?next=%5C%5Cevil");
  EXPECT_EQ(SelfUrl("/caf\xC3\xA9"), "/caf%C3%A9");
  EXPECT_EQ(SelfUrl("/bad%zz"), "/bad%25zz");
}

CompiledRoom ChallengeRoom() {
  CompiledRoom room;
  room.config.name = "shop";
  room.config.join_challenge = config::JoinChallengeKind::kPow;
  room.config.join_challenge_bits = 16;
  std::string error;
  room.page = QueuePage::Build(config::SiteConfig{}, "shop", 5, &error, 16);
  EXPECT_TRUE(room.page) << error;
  return room;
}

// The JSON wire format of docs/waiting-room.md, "Join challenge (wire format)".
TEST(QueuedReplyTest, JsonCarriesTheChallengeAndHowToAnswerIt) {
  CompiledRoom room = ChallengeRoom();
  Visit v;
  v.outcome = Visit::Outcome::kChallenge;
  v.challenge = "k1.abc.def";
  Reply r = QueuedReply(room, v, pages::Language::kEnglish, true, "/", 0);
  EXPECT_EQ(r.status, 200);
  nlohmann::json j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["in_queue"], false);
  EXPECT_EQ(j["admitted"], false);
  EXPECT_FALSE(j.contains("refused")) << "a first challenge is no refusal";
  EXPECT_EQ(j["challenge"], nlohmann::json({{"type", "pow"},
                                            {"algorithm", "sha256"},
                                            {"token", "k1.abc.def"},
                                            {"bits", 16},
                                            {"header", "Tidegate-Challenge"},
                                            {"expires_in_seconds", 120}}));
  v.refusal = AbuseReason::kChallengeReplayed;
  j = nlohmann::json::parse(QueuedReply(room, v, pages::Language::kEnglish, true, "/", 0).body);
  EXPECT_EQ(j["refused"], "challenge_replayed");
  EXPECT_EQ(j["challenge"]["token"], "k1.abc.def");
  EXPECT_EQ(r.headers.Find("Set-Cookie"), nullptr) << "no ticket";
}

TEST(QueuedReplyTest, ARateLimitedJoinIs429WithRetryAfterAndTheReason) {
  CompiledRoom room = ChallengeRoom();
  Visit v;
  v.outcome = Visit::Outcome::kRefused;
  v.refusal = AbuseReason::kTicketRateLimited;
  v.retry_after_seconds = 17;
  Reply json = QueuedReply(room, v, pages::Language::kEnglish, true, "/", 0);
  EXPECT_EQ(json.status, 429);
  ASSERT_NE(json.headers.Find("Retry-After"), nullptr);
  EXPECT_EQ(*json.headers.Find("Retry-After"), "17");
  nlohmann::json j = nlohmann::json::parse(json.body);
  EXPECT_EQ(j["refused"], "ticket_rate_limited");
  EXPECT_EQ(j["retry_after_seconds"], 17);
  Reply page = QueuedReply(room, v, pages::Language::kFrench, false, "/", 0);
  EXPECT_EQ(page.status, 429);
  EXPECT_NE(page.Text().find("Réessayez dans 17 secondes."), std::string::npos) << page.Text();
  EXPECT_EQ(page.headers.Find("Set-Cookie"), nullptr);
}

// Audit F4: a wait beyond 4 hours has no top end in the JSON; a line that
// stopped is flagged (docs/waiting-room.md, "Wait estimate").
TEST(QueuedReplyTest, JsonSaysMoreThanFourHoursAndAStoppedLine) {
  CompiledRoom room = ChallengeRoom();
  Visit v;
  v.outcome = Visit::Outcome::kQueued;
  v.position = 141;
  v.wait = EstimateWait(141, 0);
  nlohmann::json j =
      nlohmann::json::parse(QueuedReply(room, v, pages::Language::kEnglish, true, "/", 0).body);
  EXPECT_EQ(j["estimated_wait_seconds"], nlohmann::json({14400, nullptr}));
  EXPECT_EQ(j["wait_text"], "more than 4 hours");
  EXPECT_FALSE(j.contains("wait_stalled"));
  v.wait = {.low_seconds = 600, .high_seconds = 900, .stalled = true};
  j = nlohmann::json::parse(QueuedReply(room, v, pages::Language::kFrench, true, "/", 0).body);
  EXPECT_EQ(j["estimated_wait_seconds"], nlohmann::json({600, 900}));
  EXPECT_EQ(j["wait_stalled"], true);
  EXPECT_EQ(j["wait_text"], "inconnue : la file n'avance plus pour le moment");
}

// Audit 13, finding 2: a queued visitor whose place is not known yet (the
// queue order not read: Redis unreachable at a restart) is told just that,
// never a scheduled event's pre-queue text.
TEST(QueuedReplyTest, APlaceNotKnownYetIsSaidAsSuchWithoutADraw) {
  CompiledRoom room = ChallengeRoom();
  Visit v;
  v.outcome = Visit::Outcome::kQueued;
  v.place_unknown = true;
  nlohmann::json j =
      nlohmann::json::parse(QueuedReply(room, v, pages::Language::kEnglish, true, "/", 0).body);
  EXPECT_EQ(j["in_queue"], true);
  EXPECT_TRUE(j["position"].is_null()) << j.dump();
  EXPECT_TRUE(j["estimated_wait_seconds"].is_null()) << j.dump();
  EXPECT_FALSE(j.contains("draw_at")) << j.dump();
  EXPECT_EQ(j["message"], QueuePage::PlaceUnknownMessage(pages::Language::kEnglish));
  Reply page = QueuedReply(room, v, pages::Language::kFrench, false, "/", 0);
  EXPECT_NE(page.Text().find("Votre place est gardée"), std::string::npos) << page.Text();
  EXPECT_EQ(page.Text().find("tirage"), std::string::npos) << page.Text();
}

// A newcomer's queue page is not copied into a string: the reply carries
// the page to be written in place (proxy::LocalBody), with the same bytes.
// Pages edited after rendering (a notice, a failing store) are strings.
TEST(QueuedReplyTest, APlainQueuePageIsWrittenInPlace) {
  CompiledRoom room = ChallengeRoom();
  Visit v;
  v.outcome = Visit::Outcome::kQueued;
  v.position = 42;
  Reply r = QueuedReply(room, v, pages::Language::kEnglish, false, "/", 0);
  ASSERT_TRUE(r.page.has_value());
  EXPECT_TRUE(r.body.empty());
  QueuePageValues values;
  values.position = 42;
  values.self_url = "/";
  EXPECT_EQ(r.Text(), room.page->Render(pages::Language::kEnglish, PageKind::kQueued, values));
  // Its constant headers go with it, serialized once per page.
  std::string csp = room.page->Csp(pages::Language::kEnglish, PageKind::kQueued);
  EXPECT_EQ(r.page->fixed_fields(),
            "Content-Type: text/html; charset=utf-8\r\nContent-Security-Policy: " + csp +
                "\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: same-origin\r\n");
  EXPECT_EQ(r.headers.Find("Content-Security-Policy"), nullptr);
  v.notice = RoomNotice::kTicketUsed;
  Reply edited = QueuedReply(room, v, pages::Language::kEnglish, false, "/", 0);
  EXPECT_FALSE(edited.page.has_value());
  ASSERT_NE(edited.headers.Find("Content-Security-Policy"), nullptr);
  EXPECT_EQ(*edited.headers.Find("Content-Security-Policy"), csp);
  EXPECT_NE(edited.body.find("already been used"), std::string::npos);
}

// The reply's headers are written into the storage the caller passes
// (the stream's, proxy::FilterCallbacks::TakeReplyHeaders): no new field
// vector per page, whatever the storage held before.
TEST(QueuedReplyTest, HeadersReuseTheStorageGiven) {
  CompiledRoom room = ChallengeRoom();
  Visit v;
  v.outcome = Visit::Outcome::kQueued;
  v.position = 3;
  v.set_cookies.push_back("tg_wait_shop=x; Path=/");
  proxy::HeaderList storage;
  storage.mutable_fields().reserve(8);
  storage.Add("Stale", "from a previous reply");
  const proxy::Header* block = storage.fields().data();
  Reply r = QueuedReply(room, v, pages::Language::kEnglish, false, "/", 0, std::move(storage));
  EXPECT_EQ(r.headers.fields().data(), block);
  EXPECT_EQ(r.headers.Find("Stale"), nullptr);
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers.fields()[0].name, "Set-Cookie");
  EXPECT_EQ(r.headers.fields()[0].value, "tg_wait_shop=x; Path=/");
  EXPECT_EQ(r.headers.fields()[1].name, "Cache-Control");
  EXPECT_EQ(r.headers.fields()[1].value, "no-store");
}

// Page after page through the same reply storage (as the stream hands it
// back): each reply carries exactly its own visit's cookie, however long
// the previous one was, and once warm the cookie strings go round (a
// cookie built with SetCookieWith gets the buffer of a cookie sent before:
// no allocation per page).
TEST(QueuedReplyTest, CookieStorageGoesRoundWithoutMixingPages) {
  CompiledRoom room = ChallengeRoom();
  proxy::HeaderList storage;
  std::vector<const char*> buffers;
  for (int page = 0; page < 12; ++page) {
    Visit v;
    v.outcome = Visit::Outcome::kQueued;
    v.position = 3;
    v.set_cookies = TakeCookieList();
    std::string token((page % 3 == 0) ? 120 : 40, static_cast<char>('a' + page));
    v.set_cookies.push_back(SetCookieWith("tg_wait_shop", false, 1800, token.size(),
                                          [&](std::string* out) { out->append(token); }));
    const char* built = v.set_cookies[0].data();
    Reply r = QueuedReply(room, std::move(v), pages::Language::kEnglish, false, "/", 0,
                          std::move(storage));
    ASSERT_EQ(r.headers.Count("Set-Cookie"), 1u);
    EXPECT_EQ(*r.headers.Find("Set-Cookie"),
              "tg_wait_shop=" + token + "; Path=/; HttpOnly; SameSite=Lax; Max-Age=1800")
        << "page " << page;
    EXPECT_EQ(r.headers.Find("Set-Cookie")->data(), built) << "moved into the reply, not copied";
    buffers.push_back(built);
    storage = std::move(r.headers);  // the stream keeps it for its next reply
    storage.clear();
  }
  // Warm: the last pages' cookies were built in buffers used before.
  std::set<const char*> early(buffers.begin(), buffers.begin() + 6);
  for (size_t i = 8; i < buffers.size(); ++i) {
    EXPECT_EQ(early.count(buffers[i]), 1u) << "page " << i << " built its cookie in a new buffer";
  }
}

}  // namespace
}  // namespace tidegate::queue
