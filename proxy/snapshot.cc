#include "proxy/snapshot.h"

#include <netinet/in.h>
#include <string.h>

#include <event2/util.h>

#include <thread>

#include "proxy/upstream_addresses.h"
#include "proxy/upstream_monitor.h"

namespace tidegate::proxy {

int ResolveWorkerCount(const config::Config& config) {
  int workers = config.server.workers;
  if (workers <= 0) workers = static_cast<int>(std::thread::hardware_concurrency());
  return workers < 1 ? 1 : workers;
}

bool ResolveAddress(const config::Address& address, sockaddr_storage* out, socklen_t* out_len,
                    std::string* error) {
  memset(out, 0, sizeof(*out));
  if (!address.unix_path.empty()) {
    *error = "address " + address.text + ": unix sockets are not supported here";
    return false;
  }
  // IP literals first: no resolver involved.
  int len = sizeof(*out);
  std::string literal = address.host.find(':') != std::string::npos
                            ? "[" + address.host + "]:" + std::to_string(address.port)
                            : address.host + ":" + std::to_string(address.port);
  if (evutil_parse_sockaddr_port(literal.c_str(), reinterpret_cast<sockaddr*>(out), &len) == 0) {
    *out_len = static_cast<socklen_t>(len);
    return true;
  }
  if (!ResolveHost(address.host, address.port, out, out_len, error)) {
    *error = "address " + address.text + ": host name does not resolve: " + *error;
    return false;
  }
  return true;
}

std::shared_ptr<const Snapshot> BuildSnapshot(std::shared_ptr<const config::Config> config,
                                              const FilterChainBuilder& filters,
                                              uint64_t generation, std::string* error,
                                              int workers) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->generation = generation;
  snapshot->workers = workers > 0 ? workers : ResolveWorkerCount(*config);
  const config::ServerConfig& server = config->server;
  snapshot->limits.max_request_line = server.max_request_line;
  snapshot->limits.max_header_bytes = server.max_header_bytes;
  snapshot->limits.max_headers = server.max_headers;
  snapshot->limits.max_body_bytes = server.max_body_bytes;

  if (server.tls && !server.tls->listen.empty()) {
    std::string tls_error;
    snapshot->tls = TlsContext::Load(*server.tls, &tls_error);
    if (!snapshot->tls) {
      *error = "tls: " + tls_error;
      return nullptr;
    }
  }
  const config::UpstreamConfig& origins = config->upstream;
  for (size_t i = 0; i < origins.servers.size(); ++i) {
    const config::Address& address = origins.servers[i];
    UpstreamServer upstream;
    upstream.text = address.text;
    if (!ResolveAddress(address, &upstream.addr, &upstream.addr_len, error)) {
      *error = (i < origins.server_where.size() ? origins.server_where[i] : "upstream.servers") +
               ": " + *error;
      return nullptr;
    }
    snapshot->upstreams.push_back(std::move(upstream));
  }
  if (snapshot->upstreams.empty()) {
    *error = "upstream.servers: no origin server configured";
    return nullptr;
  }
  if (!filters.Build(*config, snapshot->workers, &snapshot->filters, error)) return nullptr;
  snapshot->upstream_monitor = std::make_shared<const UpstreamMonitor>(
      config->upstream, snapshot->upstreams, generation, filters.health_board());
  snapshot->config = std::move(config);
  return snapshot;
}

}  // namespace tidegate::proxy
