// [maintenance]: settings shared by every feature's maintenance gate.
#include <optional>

#include "common/cidr.h"
#include "config/address_list.h"
#include "config/sections.h"
#include "config/table_reader.h"

namespace tidegate::config {

void ReadMaintenanceSection(const toml::table* table, Diagnostics* diagnostics,
                            MaintenanceConfig* out) {
  TableReader maintenance(table, "maintenance", diagnostics);
  if (maintenance.ReadStringArray("api_prefixes", &out->api_prefixes)) {
    const toml::array& array = *table->get("api_prefixes")->as_array();
    for (size_t i = 0; i < out->api_prefixes.size(); ++i) {
      if (out->api_prefixes[i].empty() || out->api_prefixes[i].front() != '/') {
        diagnostics->Add(*array.get(i),
                         maintenance.KeyPath("api_prefixes") + "[" + std::to_string(i) + "]",
                         "\"" + out->api_prefixes[i] + "\" must be a path starting with '/'");
      }
    }
  }
  ReadNetworkList(maintenance, "bypass_cidrs", diagnostics, &out->bypass_cidrs);
  maintenance.ReadDuration("bypass_cookie_max_ttl", Duration(60'000), Duration(7 * 86'400'000),
                           &out->bypass_cookie_max_ttl);
  uint64_t max_body = 0;
  if (maintenance.ReadSize("max_body_bytes", 1, 1 << 20, &max_body)) out->max_body_bytes = max_body;
  maintenance.ReadBool("decode_slashes", &out->decode_slashes);
  maintenance.ReportUnknownKeys();
}

}  // namespace tidegate::config
