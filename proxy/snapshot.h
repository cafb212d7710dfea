// The immutable view of the configuration that workers serve with.
//
// Contract: built on the control thread (BuildSnapshot: reads certificate
// files, resolves origin names — blocking work that must never run on a
// worker), then published to every worker as std::shared_ptr<const Snapshot>.
// Never mutated after publication; a request keeps the snapshot it started
// with until it ends, so a reload never changes a request midway.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "proxy/filter.h"
#include "proxy/http1_codec.h"
#include "proxy/tls_context.h"

namespace tidegate::proxy {

class HealthBoard;
class UpstreamMonitor;

struct UpstreamServer {
  std::string text;  // "127.0.0.1:9000" or "shop.internal:9000" as configured, for logs
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
};

struct Snapshot {
  std::shared_ptr<const config::Config> config;
  std::shared_ptr<const TlsContext> tls;  // null without [server.tls]
  std::vector<UpstreamServer> upstreams;  // as resolved at load
  // Current addresses (names re-resolved) and active health; null only in
  // snapshots built by hand in tests.
  std::shared_ptr<const UpstreamMonitor> upstream_monitor;
  FilterChain filters;
  ParseLimits limits;
  int workers = 1;          // resolved worker count
  uint64_t generation = 0;  // 1 for the first snapshot, +1 per reload
};

// Builds the filter chain for one configuration. Implemented by the binary
// (app/), which is the one place that knows every feature: proxy/ never
// depends on feature folders.
class FilterChainBuilder {
 public:
  virtual ~FilterChainBuilder() = default;
  // Control thread. Returns false and sets *error when a filter's config is
  // unusable.
  virtual bool Build(const config::Config& config, int workers, FilterChain* chain,
                     std::string* error) const = 0;
  // Where the origin servers' health and addresses are reported (the same
  // board /.tidegate/health reads); null: not reported.
  virtual HealthBoard* health_board() const { return nullptr; }
};

// Resolves `[server].workers` (0 = hardware concurrency, at least 1).
int ResolveWorkerCount(const config::Config& config);

// Parses an IP literal address ("127.0.0.1:80", "[::1]:80") or, failing that,
// resolves the host name (blocking; control thread only; the first IPv4
// answer, else the first IPv6). False + *error on failure.
bool ResolveAddress(const config::Address& address, sockaddr_storage* out, socklen_t* out_len,
                    std::string* error);

// Control thread. Returns nullptr and sets *error ("tls: …", "file:line:col
// upstream.servers[i]: …") when something the config names cannot be used,
// e.g. an origin host name that does not resolve. Starts the snapshot's
// UpstreamMonitor (proxy/upstream_monitor.h). `workers`: the number of
// workers that serve it (a reload: those running, as `[server].workers`
// applies at a restart only); 0 = ResolveWorkerCount(*config).
std::shared_ptr<const Snapshot> BuildSnapshot(std::shared_ptr<const config::Config> config,
                                              const FilterChainBuilder& filters,
                                              uint64_t generation, std::string* error,
                                              int workers = 0);

}  // namespace tidegate::proxy
