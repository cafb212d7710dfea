// [rooms.NAME]: waiting rooms.
#include <algorithm>
#include <chrono>

#include "common/cidr.h"
#include "config/address_list.h"
#include "config/file_checks.h"
#include "config/pattern_check.h"
#include "config/secret_file.h"
#include "config/sections.h"
#include "config/table_reader.h"
#include "config/value_parsers.h"

namespace tidegate::config {
namespace {

constexpr size_t kMinBypassSecretBytes = 16;

void ReadBypass(TableReader& reader, const toml::table* table, const std::string& path,
                Diagnostics* diagnostics, RoomConfig* room) {
  ReadNetworkList(reader, "bypass_ips", diagnostics, &room->bypass_ips);
  if (reader.ReadStringArray("bypass_paths", &room->bypass_paths)) {
    const toml::array& array = *table->get("bypass_paths")->as_array();
    for (size_t i = 0; i < room->bypass_paths.size(); ++i) {
      std::string problem = CheckPattern(room->bypass_paths[i]);
      if (!problem.empty()) {
        diagnostics->Add(*array.get(i), path + ".bypass_paths[" + std::to_string(i) + "]", problem);
      }
    }
  }
  if (reader.ReadString("bypass_header", &room->bypass_header) &&
      !IsHttpToken(room->bypass_header)) {
    reader.Error(*table->get("bypass_header"), "bypass_header",
                 "\"" + room->bypass_header + "\" is not a header name");
  }
  if (reader.ReadString("bypass_cookie", &room->bypass_cookie) &&
      !IsHttpToken(room->bypass_cookie)) {
    reader.Error(*table->get("bypass_cookie"), "bypass_cookie",
                 "\"" + room->bypass_cookie + "\" is not a cookie name");
  }
  if (reader.ReadString("bypass_secret_file", &room->bypass_secret_file)) {
    const toml::node& node = *table->get("bypass_secret_file");
    room->bypass_secret_file = ResolvePath(FolderOf(node), room->bypass_secret_file);
    std::string error;
    std::optional<std::string> secret = ReadSecretFile(room->bypass_secret_file, &error);
    if (!secret) {
      reader.Error(node, "bypass_secret_file", error);
    } else {
      if (secret->size() < kMinBypassSecretBytes) {
        reader.Error(
            node, "bypass_secret_file",
            "\"" + room->bypass_secret_file + "\" holds " + std::to_string(secret->size()) +
                " bytes; a bypass secret needs at least " + std::to_string(kMinBypassSecretBytes));
      }
      room->bypass_secret = std::move(*secret);
    }
  }
  bool named = !room->bypass_header.empty() || !room->bypass_cookie.empty();
  if (named && room->bypass_secret_file.empty()) {
    reader.TableError("bypass_secret_file",
                      "is required when bypass_header or bypass_cookie is set (the value they "
                      "must carry)");
  }
}

// --- Scheduled events ([[rooms.NAME.events]]) ---

// An RFC 3339 time with an offset (a TOML offset date-time, or a string
// holding one).
bool ReadEventTime(TableReader& reader, std::string_view key,
                   std::chrono::system_clock::time_point* out, const toml::node** node_out) {
  const toml::node* node = reader.Take(key);
  if (!node) {
    reader.TableError(key, "is required (an RFC 3339 time such as 2026-11-27T09:00:00+01:00)");
    return false;
  }
  *node_out = node;
  return ReadOffsetTime(reader, *node, key, out);
}

struct EventNodes {
  const toml::node* prequeue_start = nullptr;
  const toml::node* start = nullptr;
  const toml::node* end = nullptr;
};

void ReadEvents(TableReader& room_reader, Diagnostics* diagnostics, RoomConfig* room) {
  std::vector<std::pair<RoomEventConfig, EventNodes>> read;
  ForEachTable(
      room_reader, "events", diagnostics,
      "{ name = \"...\", prequeue_start = ..., start = ..., end = ... }",
      [&](TableReader& reader, const toml::table& table) {
        RoomEventConfig event;
        EventNodes nodes;
        if (reader.Require("name") && reader.ReadString("name", &event.name) &&
            !IsValidName(event.name)) {
          reader.Error(*table.get("name"), "name",
                       "event names use 1-64 letters, digits, '_' or '-'");
        }
        for (const auto& [other, other_nodes] : read) {
          if (!event.name.empty() && other.name == event.name) {
            reader.Error(
                *table.get("name"), "name",
                "\"" + event.name + "\" is already the name of another event of this room");
          }
        }
        bool times =
            ReadEventTime(reader, "prequeue_start", &event.prequeue_start, &nodes.prequeue_start);
        times &= ReadEventTime(reader, "start", &event.start, &nodes.start);
        times &= ReadEventTime(reader, "end", &event.end, &nodes.end);
        if (times && event.start < event.prequeue_start) {
          reader.Error(*nodes.start, "start", "must not be before prequeue_start");
          times = false;
        }
        if (times && event.end <= event.start) {
          reader.Error(*nodes.end, "end", "must be after start");
          times = false;
        }
        uint32_t u = 0;
        if (reader.ReadInt("total_active_users", 1, 100'000'000, &u)) event.total_active_users = u;
        if (reader.ReadInt("new_users_per_minute", 1, 100'000'000, &u)) {
          event.new_users_per_minute = u;
        }
        Duration d{};
        if (reader.ReadDuration("session_duration", Duration(10'000), Duration(86'400'000), &d)) {
          event.session_duration = d;
        }
        QueueingMethod method{};
        if (reader.ReadEnum<QueueingMethod>("queueing_method",
                                            {{"fifo", QueueingMethod::kFifo},
                                             {"random", QueueingMethod::kRandom},
                                             {"passthrough", QueueingMethod::kPassthrough},
                                             {"reject", QueueingMethod::kReject}},
                                            &method)) {
          event.queueing_method = method;
        }
        RoomMode mode{};
        if (reader.ReadEnum<RoomMode>(
                "mode", {{"auto", RoomMode::kAuto}, {"queue_all", RoomMode::kQueueAll}}, &mode)) {
          event.mode = mode;
        }
        if (times) read.emplace_back(std::move(event), nodes);
      });
  std::stable_sort(read.begin(), read.end(), [](const auto& a, const auto& b) {
    return a.first.prequeue_start < b.first.prequeue_start;
  });
  for (size_t i = 1; i < read.size(); ++i) {
    const RoomEventConfig& before = read[i - 1].first;
    if (read[i].first.prequeue_start < before.end) {
      diagnostics->Add(*read[i].second.prequeue_start,
                       room_reader.KeyPath("events") + "." + read[i].first.name,
                       "overlaps event \"" + before.name +
                           "\" (its end is after this prequeue_start); events must not overlap");
    }
  }
  for (auto& [event, nodes] : read) room->events.push_back(std::move(event));
}

// --- Auto-protection ([rooms.NAME.protect], docs/waiting-room.md) ---

void ReadProtect(TableReader& room_reader, Diagnostics* diagnostics, RoomConfig* room) {
  const toml::table* table = room_reader.ReadTable("protect");
  if (!table) return;
  RoomConfig::Protect& p = room->protect;
  TableReader reader(table, room_reader.KeyPath("protect"), diagnostics);
  reader.ReadBool("enabled", &p.enabled);
  // Under 1 ms no origin answers; over a minute no shopper waits.
  reader.ReadDuration("target_latency", Duration(1), Duration(60'000), &p.target_latency);
  if (const toml::node* node = reader.Take("max_error_rate")) {
    std::optional<double> value = node->is_number() ? node->value<double>() : std::nullopt;
    if (!value || !(*value >= 0 && *value < 1)) {
      reader.Error(*node, "max_error_rate",
                   "expected a share of requests from 0 to below 1 (0.02 = 2 %), got " +
                       (value ? std::to_string(*value) : TypeName(*node)));
    } else {
      p.max_error_rate = *value;
    }
  }
  reader.ReadInt("min_new_users_per_minute", 1, 100'000'000, &p.min_new_users_per_minute);
  if (reader.ReadStringArray("exclude_paths", &p.exclude_paths)) {
    const toml::array& array = *table->get("exclude_paths")->as_array();
    for (size_t i = 0; i < p.exclude_paths.size(); ++i) {
      std::string problem = CheckPattern(p.exclude_paths[i]);
      if (!problem.empty()) {
        diagnostics->Add(*array.get(i),
                         reader.KeyPath("exclude_paths") + "[" + std::to_string(i) + "]", problem);
      }
    }
  }
  if (p.min_new_users_per_minute > room->new_users_per_minute) {
    const toml::node* node = table->get("min_new_users_per_minute");
    reader.Error(node ? *node : static_cast<const toml::node&>(*table), "min_new_users_per_minute",
                 std::to_string(p.min_new_users_per_minute) + " is above the room's " +
                     "new_users_per_minute (" + std::to_string(room->new_users_per_minute) +
                     "), which is the ceiling protection stays under");
  }
  reader.ReportUnknownKeys();
}

void ReadRoom(const std::string& /*name*/, const toml::table* table, const std::string& path,
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
  reader.ReadDuration("refresh_interval", Duration(1'000), Duration(60'000),
                      &room->refresh_interval);
  reader.ReadDuration("invitation_window", Duration(10'000), Duration(3'600'000),
                      &room->invitation_window);
  ReadBypass(reader, table, path, diagnostics, room);
  reader.ReadEnum<JoinChallengeKind>(
      "join_challenge", {{"none", JoinChallengeKind::kNone}, {"pow", JoinChallengeKind::kPow}},
      &room->join_challenge);
  // 28 bits is already minutes on a phone; under 4 is no work at all.
  reader.ReadInt("join_challenge_bits", 4, 28, &room->join_challenge_bits);
  reader.ReadInt("max_tickets_per_ip_per_minute", 0, 1'000'000,
                 &room->max_tickets_per_ip_per_minute);
  ReadEvents(reader, diagnostics, room);
  ReadProtect(reader, diagnostics, room);
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
