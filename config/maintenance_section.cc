// [maintenance]: settings shared by every feature's maintenance gate.
#include "config/sections.h"
#include "config/table_reader.h"

namespace tidegate::config {

void ReadMaintenanceSection(const toml::table* table, Diagnostics* diagnostics,
                            MaintenanceConfig* out) {
  TableReader maintenance(table, "maintenance", diagnostics);
  (void)out;
  maintenance.ReportUnknownKeys();
}

}  // namespace tidegate::config
