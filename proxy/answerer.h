// Who answered an exchange: a closed list, logged as the access log's
// `answered_by` field and counted per value in WorkerStats::answered
// (/metrics: responses_by_answerer_total{answered_by=AnswererName(a)}).
//
// Contract: plain values, any thread. Adding a feature that answers locally
// means adding a value here (before kCount) and its name in AnswererName();
// the counters and /metrics follow from kAnswererCount.
#pragma once

#include <cstddef>
#include <string_view>

namespace tidegate::proxy {

enum class Answerer : unsigned char {
  kOrigin,       // the origin's response, relayed
  kProxy,        // the proxy's own error reply (502/504, request errors)
  kBuiltin,      // /.tidegate/ pages of the proxy and the status page, 404 under /.tidegate/
  kMaintenance,  // the maintenance gate
  kQueue,        // the waiting room (queue page, /.tidegate/queue)
  kBanner,       // the banner's stylesheet
  kCount,
};

inline constexpr size_t kAnswererCount = static_cast<size_t>(Answerer::kCount);

// The public name ("origin", "proxy", "builtin", "maintenance", "queue",
// "banner"); a static string.
constexpr std::string_view AnswererName(Answerer answerer) {
  switch (answerer) {
    case Answerer::kOrigin:
      return "origin";
    case Answerer::kProxy:
      return "proxy";
    case Answerer::kBuiltin:
      return "builtin";
    case Answerer::kMaintenance:
      return "maintenance";
    case Answerer::kQueue:
      return "queue";
    case Answerer::kBanner:
      return "banner";
    case Answerer::kCount:
      break;
  }
  return "unknown";
}

}  // namespace tidegate::proxy
