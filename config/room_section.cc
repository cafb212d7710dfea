// [rooms.NAME]: waiting rooms.
#include "config/pattern_check.h"
#include "config/sections.h"
#include "config/table_reader.h"
#include "config/value_parsers.h"

namespace tidegate::config {
namespace {

void ReadRoom(const std::string& name, const toml::table* table, const std::string& path,
              Diagnostics* diagnostics, RoomConfig* room) {
  TableReader reader(table, path, diagnostics);
  if (reader.Require("match") && reader.ReadStringArray("match", &room->match)) {
    const toml::array& array = *table->get("match")->as_array();
    if (array.empty()) reader.Error(array, "match", "needs at least one pattern, e.g. \"^/\"");
    for (size_t i = 0; i < room->match.size(); ++i) {
      std::string problem = CheckPattern(room->match[i]);
      if (!problem.empty()) {
        diagnostics->Add(*array.get(i), path + ".match[" + std::to_string(i) + "]", problem);
      }
    }
  }
  reader.ReadInt("total_active_users", 1, 100'000'000, &room->total_active_users);
  reader.ReadInt("new_users_per_minute", 1, 100'000'000, &room->new_users_per_minute);
  // Sessions are counted in 10 s buckets: shorter sessions make no sense.
  reader.ReadDuration("session_duration", Duration(10'000), Duration(86'400'000),
                      &room->session_duration);
  reader.ReadEnum<QueueingMethod>("queueing_method",
                                  {{"fifo", QueueingMethod::kFifo},
                                   {"random", QueueingMethod::kRandom},
                                   {"passthrough", QueueingMethod::kPassthrough},
                                   {"reject", QueueingMethod::kReject}},
                                  &room->queueing_method);
  reader.ReadEnum<RoomMode>(
      "mode",
      {{"off", RoomMode::kOff}, {"auto", RoomMode::kAuto}, {"queue_all", RoomMode::kQueueAll}},
      &room->mode);
  reader.ReadBool("enabled", &room->enabled);
  reader.ReadBool("enforced", &room->enforced);
  int64_t status = 0;
  if (reader.ReadInt("queued_status", 100, 599, &status)) {
    if (status == 200 || status == 202 || status == 429 || status == 503) {
      room->queued_status = static_cast<int>(status);
    } else {
      reader.Error(*table->get("queued_status"), "queued_status",
                   std::to_string(status) + " is not one of 200, 202, 429, 503");
    }
  }
  reader.ReportUnknownKeys();
}

}  // namespace

void ReadRoomsSection(const toml::table* table, Diagnostics* diagnostics,
                      std::vector<RoomConfig>* out) {
  if (!table) return;
  // toml::table iterates in key order, so rooms come out in name order.
  for (const auto& [key, node] : *table) {
    std::string name(key.str());
    std::string path = "rooms." + name;
    if (!IsValidName(name)) {
      diagnostics->Add(key.source().begin.line > 0 ? key.source() : node.source(), path,
                       "room names use 1-64 letters, digits, '_' or '-' (they end up in cookie "
                       "names and Redis keys)");
      continue;
    }
    const toml::table* room_table = node.as_table();
    if (!room_table) {
      diagnostics->Add(node, path, "expected a table [rooms." + name + "], got " + TypeName(node));
      continue;
    }
    RoomConfig room;
    room.name = name;
    ReadRoom(name, room_table, path, diagnostics, &room);
    out->push_back(std::move(room));
  }
}

}  // namespace tidegate::config
