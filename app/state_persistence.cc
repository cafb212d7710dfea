#include "app/state_persistence.h"

#include <stdio.h>
#include <time.h>

#include <algorithm>
#include <chrono>
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
constexpr char kSharedRoomsFormat[] = "tidegate.shared_rooms";

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
// being saved. Their numbers are skipped, never issued twice. From the save
// before (`previous`, rooms.json.prev, whatever its clean_stop says: a
// process may have run after it) up to two save intervals are lost: twice
// the recorded margin, and at least twice the floor. One line per room
// for stderr in *notes.
void SkipLostTickets(const json& doc, bool previous,
                     std::map<std::string, queue::LocalRoomStore::Persisted>* rooms,
                     std::vector<std::string>* notes) {
  json margins = doc.value("crash_ticket_margin", json::object());
  for (auto& [name, room] : *rooms) {
    uint64_t margin = 0;
    if (margins.is_object() && margins.contains(name) && margins[name].is_number_unsigned()) {
      margin = margins[name].get<uint64_t>();
    }
    if (previous) margin = 2 * std::max(margin, StatePersistence::kCrashTicketMarginFloor);
    if (margin == 0) continue;
    room.state.tickets += margin;
    notes->push_back("tidegate: state: room " + name +
                     " was saved while running (the last stop was not clean" +
                     (previous ? ", and this is the save before the last" : "") +
                     "): ticket numbers continue after " + std::to_string(room.state.tickets) +
                     ", " + std::to_string(margin) + " past the last one saved");
  }
}

// A rooms.json document: its envelope and every room; false and *problem.
bool ParseRooms(const std::string& text, json* doc,
                std::map<std::string, queue::LocalRoomStore::Persisted>* out,
                std::string* problem) {
  if (!ParseEnvelope(text, kRoomsFormat, doc, problem)) return false;
  auto it = doc->find("rooms");
  if (it == doc->end() || !it->is_object()) {
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
  *out = std::move(rooms);
  return true;
}

// One room of shared_rooms.json: {"tickets", "serving", "active",
// "admitted_total"}, each a non-negative integer; false and *problem.
bool SharedCountersFromJson(const json& room, queue::RoomCounters* out, std::string* problem) {
  if (!room.is_object()) {
    *problem = "expected an object";
    return false;
  }
  for (const char* key : {"tickets", "serving", "active", "admitted_total"}) {
    auto it = room.find(key);
    if (it == room.end() || !it->is_number_unsigned()) {
      *problem = std::string(key) + ": missing or not a non-negative integer";
      return false;
    }
  }
  out->tickets = room["tickets"].get<uint64_t>();
  out->serving = std::min(room["serving"].get<uint64_t>(), out->tickets);
  out->active = room["active"].get<int64_t>();
  out->admitted_total = room["admitted_total"].get<uint64_t>();
  return true;
}

// A room's "order" in shared_rooms.json (queue::QueueOrder::Known):
// {"spans": [[from, shuffled 0/1], …], "seed": [8 chunks], "certain_through"};
// absent or unreadable: nothing known (false, *known untouched).
bool OrderFromJson(const json& room, queue::QueueOrder::Known* known) {
  auto it = room.find("order");
  if (it == room.end() || !it->is_object()) return false;
  const json& order = *it;
  queue::QueueOrder::Known out;
  auto spans = order.find("spans");
  if (spans == order.end() || !spans->is_array()) return false;
  for (const json& span : *spans) {
    if (!span.is_array() || span.size() != 2 || !span[0].is_number_unsigned() ||
        !span[1].is_number_unsigned()) {
      return false;
    }
    out.spans.push_back({span[0].get<uint64_t>(), span[1].get<uint64_t>() != 0});
  }
  auto seed = order.find("seed");
  if (seed != order.end()) {
    if (!seed->is_array() || seed->size() != out.seed_chunks.size()) return false;
    for (size_t i = 0; i < out.seed_chunks.size(); ++i) {
      if (!(*seed)[i].is_number_unsigned()) return false;
      out.seed_chunks[i] = (*seed)[i].get<uint64_t>();
    }
  }
  auto certain = order.find("certain_through");
  if (certain == order.end() || !certain->is_number_unsigned()) return false;
  out.certain_through = certain->get<uint64_t>();
  *known = std::move(out);
  return true;
}

json OrderToJson(const queue::QueueOrder::Known& known) {
  json spans = json::array();
  for (const queue::OrderSpan& span : known.spans)
    spans.push_back({span.from, span.shuffled ? 1 : 0});
  json order = {{"spans", std::move(spans)}, {"certain_through", known.certain_through}};
  if (known.seed_chunks[0] != 0) order["seed"] = known.seed_chunks;
  return order;
}

int64_t WallMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
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
      p->shared_rooms_path_ = p->folder_ + "/shared_rooms.json";
      p->LoadSharedRooms();
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
  p->rooms_file_ = state::StateFile(p->folder_ + "/rooms.json", /*keep_previous=*/true);
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
  return Unusable(runtime_file_, config.state.on_corrupt, problem, "", error);
}

bool StatePersistence::LoadRooms(const config::Config& config, std::string* error) {
  json doc;
  std::map<std::string, queue::LocalRoomStore::Persisted> rooms;
  std::string problem;
  state::StateFile::ReadResult read = rooms_file_.Read();
  if (read.status == state::StateFile::ReadStatus::kMissing) return true;
  if (read.status == state::StateFile::ReadStatus::kError) {
    problem = read.error;
  } else if (ParseRooms(read.text, &doc, &rooms, &problem)) {
    if (inspecting_ != nullptr) return true;
    std::vector<std::string> notes;
    if (!doc.value("clean_stop", false)) SkipLostTickets(doc, /*previous=*/false, &rooms, &notes);
    for (std::string& note : notes) Defer("", std::move(note), "");
    AdoptRooms(doc, std::move(rooms));
    return true;
  }
  if (config.state.on_corrupt == config::CorruptStateMode::kRefuse) {
    return Unusable(rooms_file_, config.state.on_corrupt, problem, "", error);
  }
  // on_corrupt = "continue": the save before (rooms.json.prev), else no
  // ticket issued before this start is honoured (see the header).
  state::StateFile previous(rooms_file_.previous_path());
  json previous_doc;
  std::string previous_problem;
  read = previous.Read();
  bool fallback = read.status == state::StateFile::ReadStatus::kRead &&
                  ParseRooms(read.text, &previous_doc, &rooms, &previous_problem);
  std::string then;
  if (fallback) {
    then = "falling back to " + previous.path() + " (saved at " +
           previous_doc.value("saved_at", std::string("?")) +
           "), with twice its crash margin of ticket numbers skipped";
  } else {
    if (read.status == state::StateFile::ReadStatus::kMissing) {
      then = "no previous save";
    } else {
      then = "the previous save cannot be used either (" +
             (read.status == state::StateFile::ReadStatus::kError ? read.error : previous_problem) +
             ")";
    }
    then +=
        ": the rooms start from the configuration's values, and every wait cookie issued "
        "before this start is void (its holder queues again, at the back)";
  }
  if (!Unusable(rooms_file_, config.state.on_corrupt, problem, then, error)) return false;
  if (inspecting_ != nullptr) return true;
  if (fallback) {
    std::vector<std::string> notes;
    SkipLostTickets(previous_doc, /*previous=*/true, &rooms, &notes);
    for (std::string& note : notes) Defer("", std::move(note), "");
    AdoptRooms(previous_doc, std::move(rooms));
    return true;
  }
  waits_valid_from_ms_ = std::max(waits_valid_from_ms_, WallMillis());
  return true;
}

void StatePersistence::LoadSharedRooms() {
  state::StateFile file(shared_rooms_path_);
  state::StateFile::ReadResult read = file.Read();
  if (read.status == state::StateFile::ReadStatus::kMissing) return;
  std::string problem;
  std::map<std::string, queue::SharedSeed> seeds;
  json doc;
  if (read.status == state::StateFile::ReadStatus::kError) {
    problem = read.error;
  } else if (ParseEnvelope(read.text, kSharedRoomsFormat, &doc, &problem)) {
    auto rooms = doc.find("rooms");
    json margins = doc.value("ticket_margin", json::object());
    if (rooms == doc.end() || !rooms->is_object()) {
      problem = "rooms: missing or not an object";
    } else {
      for (const auto& [name, room] : rooms->items()) {
        queue::SharedSeed seed;
        if (!SharedCountersFromJson(room, &seed.counters, &problem)) {
          problem = "rooms." + name + "." + problem;
          break;
        }
        OrderFromJson(room, &seed.order);
        seed.ticket_margin = kCrashTicketMarginFloor;
        if (margins.is_object() && margins.contains(name) && margins[name].is_number_unsigned()) {
          seed.ticket_margin = std::max(seed.ticket_margin, margins[name].get<uint64_t>());
        }
        seeds.emplace(name, seed);
      }
    }
  }
  if (problem.empty()) {
    for (const auto& [name, seed] : seeds) shared_saved_tickets_[name] = seed.counters.tickets;
    shared_seeds_ = std::move(seeds);
    return;
  }
  // Only a floor for a start while Redis is down: never a reason to refuse.
  // Set aside at Begin().
  Defer(file.path(), "tidegate: warning: state file " + file.path() + " cannot be used: " + problem,
        "a start while Redis is down numbers the rooms' newcomers from the counters Redis last "
        "gave this process (none yet)");
}

void StatePersistence::AdoptRooms(const json& doc,
                                  std::map<std::string, queue::LocalRoomStore::Persisted> rooms) {
  auto floor = doc.find("waits_valid_from_ms");
  if (floor != doc.end() && floor->is_number_unsigned()) {
    waits_valid_from_ms_ = std::max(waits_valid_from_ms_, floor->get<int64_t>());
  }
  // The first save measures the tickets issued since the start.
  for (const auto& [name, room] : rooms) saved_tickets_[name] = room.state.tickets;
  rooms_ = std::move(rooms);
}

// A file that cannot be used is set aside (true, with a warning on stderr)
// or, with on_corrupt = "refuse", an error (false); Inspect() only reports
// which.
bool StatePersistence::Unusable(const state::StateFile& file, config::CorruptStateMode on_corrupt,
                                const std::string& problem, std::string then, std::string* error) {
  if (then.empty()) then = "starting with the configuration's values";
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
    inspecting_->warnings.push_back(
        what + "; a start sets it aside ([state].on_corrupt = \"continue\"): " + then);
    return true;
  }
  Defer(file.path(), "tidegate: warning: " + what, then);  // set aside at Begin()
  return true;
}

void StatePersistence::Begin() {
  if (begun_) return;
  begun_ = true;
  for (const Deferred& d : deferred_) {
    std::string line = d.before;
    if (!d.file.empty()) {
      std::string aside_error;
      std::string aside = state::StateFile(d.file).SetAside(time(nullptr), &aside_error);
      line += "; " +
              (aside.empty() ? "could not set it aside: " + aside_error : "set aside as " + aside);
      line += "; " + d.after;
    }
    fprintf(stderr, "%s\n", line.c_str());
  }
  deferred_.clear();
  fflush(stderr);
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
  if (!begun_) {
    *error = "this process does not serve yet (its listeners are not all bound)";
    return false;
  }
  if (handed_over_) {
    *error = "this process is handing over to a new binary (SIGUSR2); send the change again";
    return false;
  }
  json doc = {{"format", kRuntimeFormat},
              {"version", kFormatVersion},
              {"saved_at", common::FormatRfc3339Millis(common::SystemTime().WallNow())},
              {"state", admin::ToJson(state)}};
  bool ok = runtime_file_.Write(doc.dump(2) + "\n", error);
  runtime_write_error_ = ok ? "" : *error;
  return ok;
}

bool StatePersistence::SaveRooms(const queue::RoomRegistry& registry, std::string* error,
                                 bool final) {
  if (!enabled_ || !begun_ || handed_over_) return true;
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
  if (body == last_rooms_text_ && final == last_rooms_final_ && rooms_write_error_.empty()) {
    return true;
  }
  json doc = {{"format", kRoomsFormat},
              {"version", kFormatVersion},
              {"saved_at", common::FormatRfc3339Millis(common::SystemTime().WallNow())},
              {"clean_stop", final},
              {"crash_ticket_margin", std::move(margins)},
              {"rooms", std::move(rooms)}};
  if (waits_valid_from_ms_ > 0) doc["waits_valid_from_ms"] = waits_valid_from_ms_;
  if (!rooms_file_.Write(doc.dump() + "\n", error)) {
    rooms_write_error_ = *error;
    return false;
  }
  rooms_write_error_.clear();
  last_rooms_text_ = std::move(body);
  last_rooms_final_ = final;
  return true;
}

bool StatePersistence::SaveSharedRooms(const queue::RoomRegistry& registry, std::string* error) {
  if (shared_rooms_path_.empty() || !begun_ || handed_over_) return true;
  json rooms = json::object();
  json margins = json::object();
  for (const auto& [name, known] : registry.ExportShared()) {
    const queue::RoomCounters& c = known.counters;
    rooms[name] = {{"tickets", c.tickets},
                   {"serving", c.serving},
                   {"active", std::max<int64_t>(c.active, 0)},
                   {"admitted_total", c.admitted_total}};
    if (!known.order.spans.empty()) rooms[name]["order"] = OrderToJson(known.order);
    // As SaveRooms: the largest recent step between two saves, halved at
    // every save without arrivals.
    uint64_t& previous = shared_saved_tickets_[name];
    uint64_t step = c.tickets > previous ? c.tickets - previous : 0;
    previous = c.tickets;
    uint64_t& kept = shared_ticket_step_[name];
    kept = std::max(step, kept / 2);
    margins[name] = std::max<uint64_t>(2 * kept, kCrashTicketMarginFloor);
  }
  std::string body = rooms.dump() + margins.dump();
  if (body == last_shared_text_) return true;
  json doc = {{"format", kSharedRoomsFormat},
              {"version", kFormatVersion},
              {"saved_at", common::FormatRfc3339Millis(common::SystemTime().WallNow())},
              {"ticket_margin", std::move(margins)},
              {"rooms", std::move(rooms)}};
  if (!state::StateFile(shared_rooms_path_).Write(doc.dump() + "\n", error)) return false;
  last_shared_text_ = std::move(body);
  return true;
}

std::string StatePersistence::WriteProblem() const {
  std::string out;
  auto add = [&](const char* file, const char* cost, std::string error) {
    // "cannot create /var/lib/tidegate/rooms.json.tmp-42: …": no folder.
    for (size_t at; (at = error.find(folder_ + "/")) != std::string::npos;) {
      error.erase(at, folder_.size() + 1);
    }
    if (!out.empty()) out += "; ";
    out += std::string(file) + " cannot be written (" + error + "): " + cost;
  };
  if (!rooms_write_error_.empty()) {
    add("rooms.json", "a crash now loses the rooms' progress since the last save",
        rooms_write_error_);
  }
  if (!runtime_write_error_.empty()) {
    add("runtime_state.json", "operator changes are refused", runtime_write_error_);
  }
  return out;
}

}  // namespace tidegate::app
