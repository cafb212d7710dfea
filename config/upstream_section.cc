// [upstream]: the shop's origin servers.
#include "config/address_list.h"
#include "config/sections.h"

namespace tidegate::config {

void ReadUpstreamSection(const toml::table* table, Diagnostics* diagnostics, UpstreamConfig* out) {
  constexpr Duration kOneHour{3'600'000};
  TableReader upstream(table, "upstream", diagnostics);
  if (upstream.Require("servers")) {
    ReadAddressList(upstream, "servers", {.allow_unix = false, .allow_port_zero = false},
                    diagnostics, &out->servers);
    if (const toml::node* node = table->get("servers");
        node->is_array() && node->as_array()->empty()) {
      upstream.Error(*node, "servers", "needs at least one \"IP:port\"");
    }
  }
  upstream.ReadDuration("connect_timeout", Duration(1), kOneHour, &out->connect_timeout);
  upstream.ReadDuration("response_timeout", Duration(1), kOneHour, &out->response_timeout);
  upstream.ReadDuration("read_timeout", Duration(1), kOneHour, &out->read_timeout);
  upstream.ReadInt("keepalive", 0, 100'000, &out->keepalive);
  upstream.ReadDuration("keepalive_timeout", Duration(1), kOneHour, &out->keepalive_timeout);
  upstream.ReadInt("max_fails", 0, 1'000'000, &out->max_fails);
  upstream.ReadDuration("fail_timeout", Duration(1), kOneHour, &out->fail_timeout);
  upstream.ReportUnknownKeys();
}

}  // namespace tidegate::config
