#include "proxy/builtin_routes.h"

#include <nlohmann/json.hpp>

#include "proxy/error_pages.h"
#include "proxy/path_normalizer.h"

namespace tidegate::proxy {
namespace {

constexpr std::string_view kPrefix = "/.tidegate";

bool ContainsTidegateIgnoreCase(std::string_view s) {
  constexpr std::string_view kWord = "tidegate";
  if (s.size() < kWord.size()) return false;
  for (size_t i = 0; i + kWord.size() <= s.size(); ++i) {
    if (EqualsIgnoreCase(s.substr(i, kWord.size()), kWord)) return true;
  }
  return false;
}

class BuiltinRoutesFilter : public StreamFilter {
 public:
  BuiltinRoutesFilter(const BuiltinRoutesFactory& factory, FilterCallbacks& callbacks)
      : factory_(factory), callbacks_(callbacks) {}

  FilterStatus OnRequestHeaders(RequestHead& head) override {
    if (!IsBuiltinTarget(head.target)) return FilterStatus::kContinue;
    std::string path =
        NormalizePath(head.target, {.strip_segment_params = true, .lower_case = true});
    HeaderList headers;
    headers.Add("Cache-Control", "no-store");
    if (path == "/.tidegate/health") {
      headers.Add("Content-Type", "application/json");
      callbacks_.SendLocalReply(200, std::move(headers),
                                factory_.HealthJson(std::chrono::steady_clock::now()));
      return FilterStatus::kStop;
    }
    ErrorPage page = MakeErrorPage(404, WantsJson(head.headers.Find("Accept")));
    headers.Add("Content-Type", std::move(page.content_type));
    callbacks_.SendLocalReply(404, std::move(headers), std::move(page.body));
    return FilterStatus::kStop;
  }

 private:
  const BuiltinRoutesFactory& factory_;
  FilterCallbacks& callbacks_;
};

}  // namespace

bool IsBuiltinTarget(std::string_view target) {
  // Fast path: without "tidegate" spelled out or any escape, it cannot be ours.
  if (target.find('%') == std::string_view::npos && !ContainsTidegateIgnoreCase(target)) {
    return false;
  }
  std::string path = NormalizePath(target, {.strip_segment_params = true, .lower_case = true});
  return path.compare(0, kPrefix.size(), kPrefix) == 0 &&
         (path.size() == kPrefix.size() || path[kPrefix.size()] == '/');
}

BuiltinRoutesFactory::BuiltinRoutesFactory(BuiltinRoutesConfig config)
    : config_(std::move(config)) {}

std::unique_ptr<StreamFilter> BuiltinRoutesFactory::CreateFilter(FilterCallbacks& callbacks) const {
  return std::make_unique<BuiltinRoutesFilter>(*this, callbacks);
}

std::string BuiltinRoutesFactory::HealthJson(std::chrono::steady_clock::time_point now) const {
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(now - config_.started).count();
  nlohmann::json degraded = nlohmann::json::array();
  if (config_.health != nullptr) {
    for (const DegradedPart& p : config_.health->Parts()) {
      degraded.push_back({{"part", p.part}, {"detail", p.detail}});
    }
  }
  nlohmann::json body = {{"status", degraded.empty() ? "ok" : "degraded"},
                         {"degraded", std::move(degraded)},
                         {"version", config_.version},
                         {"workers", config_.workers},
                         {"uptime_seconds", uptime},
                         {"config_files", config_.config_files}};
  std::string out = body.dump();
  out.push_back('\n');
  return out;
}

}  // namespace tidegate::proxy
