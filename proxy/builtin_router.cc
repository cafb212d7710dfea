#include "proxy/builtin_router.h"

#include <cstdint>
#include <string>

#include "common/ascii.h"
#include "proxy/byte_scan.h"
#include "proxy/error_pages.h"
#include "proxy/path_normalizer.h"

namespace tidegate::proxy {
namespace {

constexpr std::string_view kReserved = "/.tidegate";

// "/.tidegate" itself or a path below it, ignoring case.
bool IsReservedPath(std::string_view path) {
  return path.size() >= kReserved.size() &&
         EqualsIgnoreCase(path.substr(0, kReserved.size()), kReserved) &&
         (path.size() == kReserved.size() || path[kReserved.size()] == '/');
}

class BuiltinRouterFilter : public StreamFilter {
 public:
  BuiltinRouterFilter(const BuiltinRouterFactory& factory, FilterCallbacks& callbacks)
      : factory_(factory), callbacks_(callbacks) {}

  FilterStatus OnRequestHeaders(RequestHead& head) override {
    if (!MayBeBuiltinTarget(head.target)) return FilterStatus::kContinue;  // the shop's paths
    std::string path =
        NormalizePath(head.target, {.strip_segment_params = true, .lower_case = false});
    if (!IsReservedPath(path)) return FilterStatus::kContinue;
    const BuiltinRoute* route = factory_.Find(path);
    if (route != nullptr && !AllowsMethod(route->allow, head.method)) {
      return Refuse(405, head, &route->allow);
    }
    if (route != nullptr) {
      page_ = route->handler->CreateFilter(callbacks_);
      if (page_ && page_->OnRequestHeaders(head) == FilterStatus::kStop) return FilterStatus::kStop;
    }
    return Refuse(404, head, nullptr);
  }

  void OnDestroy() override {
    if (page_) page_->OnDestroy();
  }

 private:
  // 404 (no such page) or 405 (with `allow`): an error page in the format
  // the client asks for, never stored.
  FilterStatus Refuse(int status, const RequestHead& head, const std::string* allow) {
    HeaderList headers;
    if (allow != nullptr) headers.Add("Allow", *allow);
    headers.Add("Cache-Control", "no-store");
    ErrorPage page = MakeErrorPage(status, WantsJson(head.headers.Find("Accept")));
    headers.Add("Content-Type", std::move(page.content_type));
    callbacks_.SendLocalReply(status, std::move(headers), std::move(page.body), Answerer::kBuiltin);
    return FilterStatus::kStop;
  }

  const BuiltinRouterFactory& factory_;
  FilterCallbacks& callbacks_;
  std::unique_ptr<StreamFilter> page_;  // the matched route's filter, for this exchange
};

}  // namespace

bool MayBeBuiltinTarget(std::string_view target) {
  // Without an escape, normalising only drops, splits and lower-cases: a
  // first segment ".tidegate" must then be spelt in the raw path. The query
  // and fragment are never part of the path.
  constexpr std::string_view kWord = "tidegate";
  size_t i = 0;
  // Shop paths are long and rarely hold one of the four bytes that matter:
  // skip them eight at a time (every request pays this scan).
  while (target.size() - i >= 8) {
    uint64_t word = bytescan::Load8(target.data() + i);
    if (bytescan::HasByte(word, '.') || bytescan::HasByte(word, '%') ||
        bytescan::HasByte(word, '?') || bytescan::HasByte(word, '#')) {
      break;
    }
    i += 8;
  }
  for (; i < target.size(); ++i) {
    char c = target[i];
    if (c == '?' || c == '#') return false;
    if (c == '%') return true;
    if (c == '.' && target.size() - i > kWord.size() &&
        EqualsIgnoreCase(target.substr(i + 1, kWord.size()), kWord)) {
      return true;
    }
  }
  return false;
}

bool IsBuiltinTarget(std::string_view target) {
  if (!MayBeBuiltinTarget(target)) return false;
  return IsReservedPath(NormalizePath(target, {.strip_segment_params = true, .lower_case = false}));
}

bool AllowsMethod(std::string_view allow, std::string_view method) {
  while (!allow.empty()) {
    size_t comma = allow.find(',');
    if (common::TrimOws(allow.substr(0, comma)) == method) return true;
    if (comma == std::string_view::npos) break;
    allow.remove_prefix(comma + 1);
  }
  return false;
}

void BuiltinRouterFactory::Add(std::string path, PathCase path_case,
                               std::shared_ptr<const FilterFactory> handler,
                               std::string_view allow) {
  routes_.push_back(
      BuiltinRoute{std::move(path), path_case, std::move(handler), std::string(allow)});
}

bool BuiltinRouterFactory::AppliesTo(const RequestHead& head) const {
  return MayBeBuiltinTarget(head.target);
}

std::unique_ptr<StreamFilter> BuiltinRouterFactory::CreateFilter(FilterCallbacks& callbacks) const {
  return std::make_unique<BuiltinRouterFilter>(*this, callbacks);
}

const BuiltinRoute* BuiltinRouterFactory::Find(std::string_view normalized_path) const {
  for (const BuiltinRoute& route : routes_) {
    bool same = route.path_case == PathCase::kExact ? normalized_path == route.path
                                                    : EqualsIgnoreCase(normalized_path, route.path);
    if (same) return &route;
  }
  return nullptr;
}

}  // namespace tidegate::proxy
