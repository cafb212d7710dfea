#include "queue/room_state_json.h"

#include <cstring>
#include <limits>
#include <type_traits>

#include "common/base64url.h"
#include "queue/room_integrity.h"

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
        !(std::is_unsigned_v<Value> ? pair[1].is_number_unsigned() : pair[1].is_number_integer())) {
      *error = key + "[" + std::to_string(i) + "]: expected a pair of integers" +
               (std::is_unsigned_v<Value> ? " (the second not negative)" : "");
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

// The claimed-number ring as base64url of its words, little-endian (at most
// 128 KiB of bitmap: 175 KB of text; a room that invited N numbers so far
// holds N / 8 bytes of it, up to that bound).
std::string WordsToText(const std::vector<uint64_t>& words) {
  std::string bytes(words.size() * 8, '\0');
  for (size_t i = 0; i < words.size(); ++i) {
    for (int b = 0; b < 8; ++b) bytes[i * 8 + b] = static_cast<char>(words[i] >> (8 * b));
  }
  return common::Base64UrlEncode(bytes);
}

bool WordsFromText(const std::string& text, std::vector<uint64_t>* words) {
  std::string bytes(common::Base64UrlDecodedCapacity(text.size()), '\0');
  size_t n = common::Base64UrlDecodeTo(text, bytes.data());
  if (n == std::string_view::npos || n % 8 != 0 || n / 8 > kClaimWindow / 64) return false;
  words->assign(n / 8, 0);
  for (size_t i = 0; i < n / 8; ++i) {
    for (int b = 0; b < 8; ++b) {
      (*words)[i] |= uint64_t{static_cast<unsigned char>(bytes[i * 8 + b])} << (8 * b);
    }
  }
  return true;
}

json IntegrityToJson(const RoomIntegrity& integrity) {
  json ended = json::array();
  for (const auto& [until, session] : integrity.ended.entries()) {
    ended.push_back(json::array({until, session}));
  }
  json renewed = json::array();
  integrity.renewed.ForEach([&](int64_t bucket, uint64_t session) {
    renewed.push_back(json::array({bucket, session}));
  });
  return json{{"claimed", WordsToText(integrity.claimed.words())},
              {"ended", std::move(ended)},
              {"renewed", std::move(renewed)}};
}

bool IntegrityFromJson(const json& j, std::string* error, RoomIntegrity* out) {
  auto claimed = j.find("claimed");
  if (claimed != j.end()) {
    if (!claimed->is_string() ||
        !WordsFromText(claimed->get<std::string>(), &out->claimed.mutable_words())) {
      *error = "claimed: expected the base64url of at most " + std::to_string(kClaimWindow / 8) +
               " bytes, a multiple of 8";
      return false;
    }
  }
  // Re-inserted in their order; expired records are pruned at first use.
  if (!ReadPairs<uint64_t>(j, "ended", error, [&](int64_t until, uint64_t session) {
        out->ended.Insert(session, until, std::numeric_limits<int64_t>::min());
      })) {
    return false;
  }
  // Absent in files written before it existed: empty.
  return ReadPairs<uint64_t>(j, "renewed", error, [&](int64_t bucket, uint64_t session) {
    out->renewed.Record(session, bucket);
  });
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
              {"integrity", IntegrityToJson(s.integrity)},
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
  if (auto integrity = j.find("integrity"); ok && integrity != j.end()) {
    if (!integrity->is_object()) {
      *error = "integrity: expected an object";
      return std::nullopt;
    }
    ok = IntegrityFromJson(*integrity, error, &s.integrity);
    if (!ok) *error = "integrity." + *error;
  }
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

namespace {

ProtectMove MoveNamed(const std::string& name) {
  for (ProtectMove m :
       {ProtectMove::kNone, ProtectMove::kStart, ProtectMove::kHold, ProtectMove::kGrow,
        ProtectMove::kTrim, ProtectMove::kCutLatency, ProtectMove::kCutErrors}) {
    if (ProtectMoveName(m) == name) return m;
  }
  return ProtectMove::kHold;
}

bool ReadMove(const json& j, const char* key, std::string* error, ProtectMove* out) {
  auto it = j.find(key);
  if (it == j.end()) return true;
  if (!it->is_string()) {
    *error = std::string(key) + ": expected a string";
    return false;
  }
  *out = MoveNamed(it->get<std::string>());
  return true;
}

}  // namespace

json ProtectStateToJson(const ProtectState& s) {
  return json{{"limit", s.limit},
              {"rate", s.rate},
              {"congestion_at", s.congestion_at},
              {"calm_p90_ms", s.calm_p90_ms},
              {"ramp_from", s.ramp_from},
              {"probe_since_ms", s.probe_since_ms},
              {"decided_ms", s.decided_ms},
              {"settle_until_ms", s.settle_until_ms},
              {"move", ProtectMoveName(s.move)},
              {"direction", s.direction},
              {"moved_ms", s.moved_ms},
              {"last_change", ProtectMoveName(s.last_change)},
              {"reason", s.reason},
              {"samples", s.health.samples},
              {"errors", s.health.errors},
              {"p90_ms", s.health.p90_ms}};
}

std::optional<ProtectState> ProtectStateFromJson(const json& j, std::string* error) {
  if (!j.is_object()) {
    *error = "expected an object";
    return std::nullopt;
  }
  ProtectState s;
  bool ok = ReadNumber(j, "limit", error, &s.limit) && ReadNumber(j, "rate", error, &s.rate) &&
            ReadNumber(j, "congestion_at", error, &s.congestion_at) &&
            ReadNumber(j, "ramp_from", error, &s.ramp_from) &&
            ReadNumber(j, "probe_since_ms", error, &s.probe_since_ms) &&
            ReadNumber(j, "decided_ms", error, &s.decided_ms) &&
            ReadNumber(j, "settle_until_ms", error, &s.settle_until_ms) &&
            ReadMove(j, "move", error, &s.move) &&
            ReadNumber(j, "direction", error, &s.direction) &&
            ReadNumber(j, "moved_ms", error, &s.moved_ms) &&
            ReadMove(j, "last_change", error, &s.last_change) &&
            ReadNumber(j, "samples", error, &s.health.samples) &&
            ReadNumber(j, "errors", error, &s.health.errors) &&
            ReadNumber(j, "p90_ms", error, &s.health.p90_ms);
  if (!ok) return std::nullopt;
  // Written since the HyStart exit; absent in an older instance's decision.
  if (j.contains("calm_p90_ms") && !ReadNumber(j, "calm_p90_ms", error, &s.calm_p90_ms)) {
    return std::nullopt;
  }
  if (auto reason = j.find("reason"); reason != j.end()) {
    if (!reason->is_string()) {
      *error = "reason: expected a string";
      return std::nullopt;
    }
    s.reason = reason->get<std::string>();
  }
  return s;
}

}  // namespace tidegate::queue
