// [upstream]: the shop's origin servers, and [upstream.health].
#include "config/address_list.h"
#include "config/sections.h"

namespace tidegate::config {
namespace {

constexpr Duration kOneHour{3'600'000};

void ReadHealthSection(const toml::table* table, UpstreamHealthConfig* out,
                       Diagnostics* diagnostics) {
  TableReader health(table, "upstream.health", diagnostics);
  if (health.ReadString("path", &out->path) && (out->path.empty() || out->path[0] != '/')) {
    health.Error(*table->get("path"), "path", "must start with \"/\", e.g. \"/healthz\"");
  }
  for (char c : out->path) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      health.Error(*table->get("path"), "path", "spaces and control characters are not allowed");
      break;
    }
  }
  health.ReadDuration("interval", Duration(100), kOneHour, &out->interval);
  health.ReadDuration("timeout", Duration(1), kOneHour, &out->timeout);
  health.ReadInt("rise", 1, 1'000, &out->rise);
  health.ReadInt("fall", 1, 1'000, &out->fall);
  health.ReportUnknownKeys();
}

}  // namespace

void ReadUpstreamSection(const toml::table* table, Diagnostics* diagnostics, UpstreamConfig* out) {
  TableReader upstream(table, "upstream", diagnostics);
  if (upstream.Require("servers")) {
    AddressRules rules{.allow_unix = false, .allow_host_names = true};
    if (ReadAddressList(upstream, "servers", rules, diagnostics, &out->servers)) {
      const toml::array& array = *table->get("servers")->as_array();
      out->server_where.clear();
      for (size_t i = 0; i < array.size(); ++i) {
        const toml::source_region& where = array.get(i)->source();
        out->server_where.push_back((where.path ? *where.path : std::string()) + ":" +
                                    std::to_string(where.begin.line) + ":" +
                                    std::to_string(where.begin.column) + " upstream.servers[" +
                                    std::to_string(i) + "]");
      }
    }
    if (const toml::node* node = table->get("servers");
        node->is_array() && node->as_array()->empty()) {
      upstream.Error(*node, "servers", "needs at least one \"host:port\"");
    }
  }
  upstream.ReadDuration("connect_timeout", Duration(1), kOneHour, &out->connect_timeout);
  upstream.ReadDuration("response_timeout", Duration(1), kOneHour, &out->response_timeout);
  upstream.ReadDuration("read_timeout", Duration(1), kOneHour, &out->read_timeout);
  upstream.ReadInt("keepalive", 0, 100'000, &out->keepalive);
  upstream.ReadInt("keepalive_max", 1, 100'000, &out->keepalive_max);
  upstream.ReadDuration("keepalive_timeout", Duration(1), kOneHour, &out->keepalive_timeout);
  upstream.ReadInt("keepalive_requests", 1, 100'000'000, &out->keepalive_requests);
  upstream.ReadDuration("keepalive_time", Duration(1), Duration(24 * 3'600'000),
                        &out->keepalive_time);
  upstream.ReadInt("max_fails", 0, 1'000'000, &out->max_fails);
  upstream.ReadDuration("fail_timeout", Duration(1), kOneHour, &out->fail_timeout);
  upstream.ReadDuration("resolve_interval", Duration(1'000), Duration(24 * 3'600'000),
                        &out->resolve_interval);
  if (const toml::table* health = upstream.ReadTable("health")) {
    ReadHealthSection(health, &out->health, diagnostics);
  }
  upstream.ReportUnknownKeys();
}

}  // namespace tidegate::config
