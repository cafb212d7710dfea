#include "proxy/health_route.h"

#include <re2/re2.h>
#include <nlohmann/json.hpp>

namespace tidegate::proxy {
namespace {

// IP literals with an optional port ("10.0.0.5:6379", "[::1]:6379") and
// unix socket paths ("unix:/run/redis.sock").
const RE2& AddressPattern() {
  static const RE2 pattern(
      R"((?:\b\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]*\])(?::\d+)?|unix:[^\s;,):]+)");
  return pattern;
}

class HealthFilter : public StreamFilter {
 public:
  HealthFilter(const HealthRouteFactory& factory, FilterCallbacks& callbacks)
      : factory_(factory), callbacks_(callbacks) {}

  FilterStatus OnRequestHeaders(RequestHead& head) override {
    HeaderList headers;
    headers.Add("Cache-Control", "no-store");
    headers.Add("Content-Type", "application/json");
    callbacks_.SendLocalReply(200, std::move(headers),
                              factory_.HealthJson(std::chrono::steady_clock::now()),
                              Answerer::kBuiltin);
    return FilterStatus::kStop;
  }

 private:
  const HealthRouteFactory& factory_;
  FilterCallbacks& callbacks_;
};

}  // namespace

std::string WithoutAddresses(std::string detail) {
  RE2::GlobalReplace(&detail, AddressPattern(), "(address hidden)");
  return detail;
}

HealthRouteFactory::HealthRouteFactory(HealthRouteConfig config) : config_(std::move(config)) {}

std::unique_ptr<StreamFilter> HealthRouteFactory::CreateFilter(FilterCallbacks& callbacks) const {
  return std::make_unique<HealthFilter>(*this, callbacks);
}

std::string HealthRouteFactory::HealthJson(std::chrono::steady_clock::time_point now) const {
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(now - config_.started).count();
  nlohmann::json degraded = nlohmann::json::array();
  if (config_.health != nullptr) {
    for (const DegradedPart& p : config_.health->Parts()) {
      degraded.push_back({{"part", p.part}, {"detail", WithoutAddresses(p.detail)}});
    }
  }
  nlohmann::json body = {{"status", degraded.empty() ? "ok" : "degraded"},
                         {"degraded", std::move(degraded)},
                         {"version", config_.version},
                         {"workers", config_.workers},
                         {"uptime_seconds", uptime}};
  std::string out = body.dump();
  out.push_back('\n');
  return out;
}

}  // namespace tidegate::proxy
