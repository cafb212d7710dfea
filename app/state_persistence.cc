#include "app/state_persistence.h"

#include <stdio.h>
#include <time.h>

#include <algorithm>
#include <functional>

#include <nlohmann/json.hpp>

#include "admin/request_validation.h"
#include "admin/runtime_state_json.h"
#include "common/rfc3339.h"
#include "common/time_source.h"
#include "queue/room_state_json.h"

namespace tidegate::app {

namespace {

using nlohmann::json;

constexpr int kFormatVersion = 1;
constexpr char kRuntimeFormat[] = "tidegate.runtime_state";
constexpr char kRoomsFormat[] = "tidegate.rooms";

// Checks the envelope {"format": …, "version": 1, …} and hands the document
// to `body`; false and *error naming what is wrong.
bool ParseEnvelope(const std::string& text, const char* format, json* out, std::string* error) {
  if (text.empty()) {
    *error = "the file is empty (a write cut short?)";
    return false;
  }
  try {
    *out = json::parse(text);
  } catch (const json::parse_error& e) {
    *error = std::string("not valid JSON: ") + e.what();
    return false;
  }
  if (!out->is_object()) {
    *error = "expected a JSON object";
    return false;
  }
  auto f = out->find("format");
  if (f == out->end() || !f->is_string() || f->get<std::string>() != format) {
    *error = std::string("format: expected \"") + format + "\"";
    return false;
  }
  auto v = out->find("version");
  if (v == out->end() || !v->is_number_unsigned()) {
    *error = "version: missing or not an unsigned integer";
    return false;
  }
  if (v->get<uint64_t>() != kFormatVersion) {
    *error = "version " + std::to_string(v->get<uint64_t>()) + " is not supported (this binary " +
             "reads version " + std::to_string(kFormatVersion) + ")";
    return false;
  }
  return true;
}

// Reads `file` with `parse`: true when it is missing (a first start) or
// parsed, else false and *problem.
bool ReadOne(const state::StateFile& file,
             const std::function<bool(const std::string&, std::string*)>& parse,
             std::string* problem) {
  state::StateFile::ReadResult read = file.Read();
  if (read.status == state::StateFile::ReadStatus::kMissing) return true;
  if (read.status == state::StateFile::ReadStatus::kError) {
    *problem = read.error;
    return false;
  }
  return parse(read.text, problem);
}

// rooms.json saved while running (the stop was not clean: a crash, kill -9,
// a power loss): the last second's tickets may have been issued without
// being saved. Their numbers are skipped, never issued twice.
void SkipLostTickets(const json& doc,
                     std::map<std::string, queue::LocalRoomStore::Persisted>* rooms) {
  json margins = doc.value("crash_ticket_margin", json::object());
  for (auto& [name, room] : *rooms) {
    uint64_t margin = 0;
    if (margins.is_object() && margins.contains(name) && margins[name].is_number_unsigned()) {
      margin = margins[name].get<uint64_t>();
    }
    if (margin == 0) continue;
    room.state.tickets += margin;
    fprintf(stderr,
            "tidegate: state: room %s was saved while running (the last stop was not clean): "
            "ticket numbers continue after %llu, %llu past the last one saved\n",
            name.c_str(), static_cast<unsigned long long>(room.state.tickets),
            static_cast<unsigned long long>(margin));
  }
}

}  // namespace

std::string StateFolder(const config::Config& config) {
  if (!config.state.path.empty()) return config.state.path;
  if (config.source_files.empty()) return "state";
  const std::string& first = config.source_files.front();
  size_t slash = first.rfind('/');
  if (slash == std::string::npos) return "state";
  return first.substr(0, slash + 1) + "state";
}

std::unique_ptr<StatePersistence> StatePersistence::Open(const config::Config& config,
                                                         std::string* error) {
  std::unique_ptr<StatePersistence> p(new StatePersistence());
  p->folder_ = StateFolder(config);
  if (config.state.backend != config::StateBackend::kLocal) {
    // Redis holds the state; the folder only keeps the store's copy of it,
    // a safety net: without the folder the instance runs without a copy.
    std::string folder_error;
    if (state::EnsureStateFolder(p->folder_, &folder_error)) {
      p->shared_copy_path_ = p->folder_ + "/shared_state.json";
    } else {
      fprintf(stderr,
              "tidegate: warning: %s; running without a local copy of the shared state (a "
              "start while Redis is down begins with no overrides)\n",
              folder_error.c_str());
      fflush(stderr);
    }
    return p;
  }
  p->enabled_ = true;
  if (!state::EnsureStateFolder(p->folder_, error)) return nullptr;
  p->runtime_file_ = state::StateFile(p->folder_ + "/runtime_state.json");
  p->rooms_file_ = state::StateFile(p->folder_ + "/rooms.json");
  if (!p->LoadRuntime(config, error) || !p->LoadRooms(config, error)) return nullptr;
  return p;
}

bool StatePersistence::LoadRuntime(const config::Config& config, std::string* error) {
  std::string problem;
  if (ReadOne(
          runtime_file_,
          [this](const std::string& text, std::string* problem) {
            json doc;
            if (!ParseEnvelope(text, kRuntimeFormat, &doc, problem)) return false;
            auto it = doc.find("state");
            if (it == doc.end()) {
              *problem = "state: missing";
              return false;
            }
            std::optional<state::RuntimeState> state = admin::RuntimeStateFromJson(*it, problem);
            if (!state) {
              *problem = "state." + *problem;
              return false;
            }
            runtime_ = std::make_shared<const state::RuntimeState>(std::move(*state));
            return true;
          },
          &problem)) {
    return true;
  }
  return Unusable(runtime_file_, config.state.on_corrupt, problem, error);
}

bool StatePersistence::LoadRooms(const config::Config& config, std::string* error) {
  std::string problem;
  if (ReadOne(
          rooms_file_,
          [this](const std::string& text, std::string* problem) {
            json doc;
            if (!ParseEnvelope(text, kRoomsFormat, &doc, problem)) return false;
            auto it = doc.find("rooms");
            if (it == doc.end() || !it->is_object()) {
              *problem = "rooms: missing or not an object";
              return false;
            }
            std::map<std::string, queue::LocalRoomStore::Persisted> rooms;
            for (const auto& [name, room] : it->items()) {
              auto persisted = queue::RoomFromJson(room, problem);
              if (!persisted) {
                *problem = "rooms." + name + "." + *problem;
                return false;
              }
              rooms.emplace(name, std::move(*persisted));
            }
            if (!doc.value("clean_stop", false)) SkipLostTickets(doc, &rooms);
            // The first save measures the tickets issued since the start.
            for (const auto& [name, room] : rooms) saved_tickets_[name] = room.state.tickets;
            rooms_ = std::move(rooms);
            return true;
          },
          &problem)) {
    return true;
  }
  return Unusable(rooms_file_, config.state.on_corrupt, problem, error);
}

// A file that cannot be used is set aside (true, with a warning on stderr)
// or, with on_corrupt = "refuse", an error (false); Inspect() only reports
// which.
bool StatePersistence::Unusable(const state::StateFile& file, config::CorruptStateMode on_corrupt,
                                const std::string& problem, std::string* error) {
  std::string what = "state file " + file.path() + " cannot be used: " + problem;
  if (on_corrupt == config::CorruptStateMode::kRefuse) {
    *error = what +
             "; refusing to start ([state].on_corrupt = \"refuse\"): repair or move the file, "
             "or set on_corrupt = \"continue\" to start from the configuration's values";
    if (inspecting_ == nullptr) return false;
    inspecting_->errors.push_back(*error);
    return true;
  }
  if (inspecting_ != nullptr) {
    inspecting_->warnings.push_back(what +
                                    "; a start sets it aside and begins with the configuration's "
                                    "values ([state].on_corrupt = \"continue\")");
    return true;
  }
  std::string aside_error;
  std::string aside = file.SetAside(time(nullptr), &aside_error);
  fprintf(stderr, "tidegate: warning: %s; %s; starting with the configuration's values\n",
          what.c_str(),
          aside.empty() ? ("could not set it aside: " + aside_error).c_str()
                        : ("set aside as " + aside).c_str());
  fflush(stderr);
  return true;
}

StatePersistence::Findings StatePersistence::Inspect(const config::Config& config) {
  Findings findings;
  if (config.state.backend != config::StateBackend::kLocal) return findings;
  StatePersistence p;
  p.inspecting_ = &findings;
  p.folder_ = StateFolder(config);
  p.runtime_file_ = state::StateFile(p.folder_ + "/runtime_state.json");
  p.rooms_file_ = state::StateFile(p.folder_ + "/rooms.json");
  std::string unused;
  p.LoadRuntime(config, &unused);
  p.LoadRooms(config, &unused);
  if (p.runtime_ == nullptr) return findings;
  for (const admin::RoomUnableToQueue& room : admin::RoomsUnableToQueue(config, *p.runtime_)) {
    findings.warnings.push_back(
        "state file " + p.runtime_file_.path() + ": " +
        admin::DescribeUnableToQueue(room, "this configuration") +
        ": after a start it would queue nobody; switch it off first (tidegate ctl room set " +
        room.room + " mode=off) or keep it able to queue");
  }
  return findings;
}

bool StatePersistence::SaveRuntime(const state::RuntimeState& state, std::string* error) {
  if (!enabled_) return true;
  if (handed_over_) {
    *error = "this process is handing over to a new binary (SIGUSR2); send the change again";
    return false;
  }
  json doc = {{"format", kRuntimeFormat},
              {"version", kFormatVersion},
              {"saved_at", common::FormatRfc3339Millis(common::SystemTime().WallNow())},
              {"state", admin::ToJson(state)}};
  return runtime_file_.Write(doc.dump(2) + "\n", error);
}

bool StatePersistence::SaveRooms(const queue::RoomRegistry& registry, std::string* error,
                                 bool final) {
  if (!enabled_ || handed_over_) return true;
  json rooms = json::object();
  json margins = json::object();
  for (const auto& [name, room] : registry.ExportLocal()) {
    rooms[name] = queue::RoomToJson(room);
    uint64_t tickets = room.state.tickets;
    // A room not restored counts from 0: its first call (within a second
    // of the start) measures every ticket issued since.
    uint64_t& previous = saved_tickets_[name];
    uint64_t step = tickets > previous ? tickets - previous : 0;
    previous = tickets;
    uint64_t& kept = ticket_step_[name];
    kept = std::max(step, kept / 2);
    margins[name] = std::max<uint64_t>(2 * kept, kCrashTicketMarginFloor);
  }
  // saved_at is left out of the comparison: an idle room is not rewritten.
  std::string body = rooms.dump();
  if (body == last_rooms_text_ && final == last_rooms_final_) return true;
  json doc = {{"format", kRoomsFormat},
              {"version", kFormatVersion},
              {"saved_at", common::FormatRfc3339Millis(common::SystemTime().WallNow())},
              {"clean_stop", final},
              {"crash_ticket_margin", std::move(margins)},
              {"rooms", std::move(rooms)}};
  if (!rooms_file_.Write(doc.dump() + "\n", error)) return false;
  last_rooms_text_ = std::move(body);
  last_rooms_final_ = final;
  return true;
}

}  // namespace tidegate::app
