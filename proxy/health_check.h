// One active health check of one origin server: "GET path HTTP/1.1" over a
// fresh connection; a 2xx or 3xx status line within the timeout passes.
//
// Contract: blocking (poll() with the timeout, which bounds the whole
// check); runs on the upstream monitor's thread (proxy/upstream_monitor.h),
// never on a worker. Thread-safe (no shared state).
#pragma once

#include <chrono>
#include <string>

#include "proxy/snapshot.h"

namespace tidegate::proxy {

struct HealthCheckResult {
  bool passed = false;
  std::string detail;  // "status 200", "status 500", "connect: Connection refused", "timeout"
};

// `host` goes into the Host header (the server as written, e.g. "shop:80").
HealthCheckResult RunHealthCheck(const UpstreamServer& server, const std::string& host,
                                 const std::string& path, std::chrono::milliseconds timeout);

}  // namespace tidegate::proxy
