// The JSON form of a local room's persistable state
// (LocalRoomStore::Persisted), for the state file (docs/state.md, "What the
// files contain").
//
// Also the JSON form of the auto-protection controller's state
// (ProtectState, queue/protect_controller.h), which RedisProtectLease
// carries from the deciding instance to the others.
//
// Contract: pure functions, thread-safe, no I/O, no exceptions escape: a
// document of the wrong shape is nullopt with *error naming the field
// ("sessions[2]: expected [bucket, count]"). RoomFromJson(RoomToJson(x))
// restores every field of x (doubles round-trip exactly through nlohmann).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "queue/local_room_store.h"
#include "queue/protect_controller.h"

namespace tidegate::queue {

nlohmann::json RoomToJson(const LocalRoomStore::Persisted& room);
std::optional<LocalRoomStore::Persisted> RoomFromJson(const nlohmann::json& j, std::string* error);

// Moves by name ("grow", "cut_latency", …: ProtectMoveName). An unknown
// move name (a newer instance's) reads as "hold".
nlohmann::json ProtectStateToJson(const ProtectState& state);
std::optional<ProtectState> ProtectStateFromJson(const nlohmann::json& j, std::string* error);

}  // namespace tidegate::queue
