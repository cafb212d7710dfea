#include "queue/room_state_json.h"

#include <type_traits>

namespace tidegate::queue {

namespace {

using nlohmann::json;

json BucketsToJson(const std::map<int64_t, int64_t>& buckets) {
  json out = json::array();
  for (const auto& [bucket, count] : buckets) out.push_back(json::array({bucket, count}));
  return out;
}

// Reads [[bucket, value], …] into `add(bucket, value)`.
template <typename Value, typename Add>
bool ReadPairs(const json& j, const std::string& key, std::string* error, Add add) {
  auto it = j.find(key);
  if (it == j.end()) return true;  // absent: empty
  if (!it->is_array()) {
    *error = key + ": expected an array";
    return false;
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const json& pair = (*it)[i];
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number_integer() ||
        !pair[1].is_number_integer()) {
      *error = key + "[" + std::to_string(i) + "]: expected [bucket, count]";
      return false;
    }
    add(pair[0].get<int64_t>(), pair[1].get<Value>());
  }
  return true;
}

template <typename T>
bool ReadNumber(const json& j, const char* key, std::string* error, T* out) {
  auto it = j.find(key);
  if (it == j.end()) return true;  // absent: the default
  bool fits = std::is_floating_point_v<T> ? it->is_number()
              : std::is_unsigned_v<T>     ? it->is_number_unsigned()
                                          : it->is_number_integer();
  if (!fits) {
    *error = std::string(key) + ": expected " +
             (std::is_floating_point_v<T> ? "a number" : "a non-negative integer");
    return false;
  }
  *out = it->get<T>();
  return true;
}

}  // namespace

json RoomToJson(const LocalRoomStore::Persisted& room) {
  const RoomState& s = room.state;
  json first_invited = json::array();
  for (const auto& [bucket, number] : s.first_invited) {
    first_invited.push_back(json::array({bucket, number}));
  }
  return json{{"tickets", s.tickets},
              {"serving", s.serving},
              {"admitted_total", s.admitted_total},
              {"credit", s.credit},
              {"last_tick_ms", s.last_tick_ms},
              {"claim_ratio", s.claim_ratio},
              {"sessions", BucketsToJson(s.sessions.entries())},
              {"admissions", BucketsToJson(s.admissions.entries())},
              {"claims", BucketsToJson(s.claims.entries())},
              {"invitations", BucketsToJson(s.invitations.entries())},
              {"first_invited", std::move(first_invited)},
              {"marks", room.marks}};
}

std::optional<LocalRoomStore::Persisted> RoomFromJson(const json& j, std::string* error) {
  if (!j.is_object()) {
    *error = "expected an object";
    return std::nullopt;
  }
  LocalRoomStore::Persisted room;
  RoomState& s = room.state;
  bool ok = ReadNumber(j, "tickets", error, &s.tickets) &&
            ReadNumber(j, "serving", error, &s.serving) &&
            ReadNumber(j, "admitted_total", error, &s.admitted_total) &&
            ReadNumber(j, "credit", error, &s.credit) &&
            ReadNumber(j, "last_tick_ms", error, &s.last_tick_ms) &&
            ReadNumber(j, "claim_ratio", error, &s.claim_ratio);
  auto into = [](BucketCounts* counts) {
    return [counts](int64_t bucket, int64_t n) { counts->Add(bucket, n); };
  };
  ok = ok && ReadPairs<int64_t>(j, "sessions", error, into(&s.sessions)) &&
       ReadPairs<int64_t>(j, "admissions", error, into(&s.admissions)) &&
       ReadPairs<int64_t>(j, "claims", error, into(&s.claims)) &&
       ReadPairs<int64_t>(j, "invitations", error, into(&s.invitations)) &&
       ReadPairs<uint64_t>(j, "first_invited", error,
                           [&](int64_t bucket, uint64_t n) { s.first_invited[bucket] = n; });
  if (!ok) return std::nullopt;
  if (auto marks = j.find("marks"); marks != j.end()) {
    if (!marks->is_object()) {
      *error = "marks: expected an object";
      return std::nullopt;
    }
    for (const auto& [name, value] : marks->items()) {
      if (!value.is_number_unsigned()) {
        *error = "marks." + name + ": expected a non-negative integer";
        return std::nullopt;
      }
      room.marks[name] = value.get<uint64_t>();
    }
  }
  return room;
}

}  // namespace tidegate::queue
