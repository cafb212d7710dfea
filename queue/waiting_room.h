// WaitingRoom: everything the waiting room's filters need for one
// configuration snapshot — the compiled rooms (RE2 patterns, bypass rules,
// pre-rendered queue pages), the token codec, and where live state and
// operators' overrides are read from.
//
// Contract: built on the control thread by Build() (nullptr + *error when a
// page template cannot be loaded); immutable afterwards and shared by every
// worker (const methods only). The RoomRegistry and Published<RuntimeState>
// must outlive it. Rooms are taken in configuration (name) order; the first
// room whose `match` hits a request's normalised path is its room. `match`
// and `bypass_paths` follow the path policy of proxy/path_pattern.h
// (case-insensitive, like the maintenance features).
#pragma once

#include <re2/re2.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/time_source.h"
#include "config/config.h"
#include "config/room_match.h"
#include "pages/language.h"
#include "proxy/filter.h"
#include "proxy/published.h"
#include "queue/cookies.h"
#include "queue/join_challenge.h"
#include "queue/queue_page.h"
#include "queue/room_registry.h"
#include "queue/token.h"
#include "state/effective_view.h"
#include "state/runtime_state.h"

namespace tidegate::queue {

struct CompiledRoom {
  config::RoomConfig config;
  std::vector<std::unique_ptr<RE2>> match;
  // For each `match` pattern that is "^" and a plain path prefix (letters,
  // digits, "/", "_", "-": the merchant's usual "^/" or "^/checkout"), that
  // prefix, matched without RE2 (case-insensitively, as RE2 would);
  // nullopt for the others (MatchPrefix, waiting_room.cc).
  std::vector<std::optional<std::string>> match_prefixes;
  std::vector<std::unique_ptr<RE2>> bypass_paths;
  // [rooms.NAME.protect] exclude_paths: gated, not measured by auto-protection.
  std::vector<std::unique_ptr<RE2>> unmeasured_paths;
  std::shared_ptr<RoomRuntime> runtime;
  // queueing_method random: the seed this process proposes (secret, derived
  // from the first signing key); the one in use is the room's recorded seed
  // (RoomRuntime::queue_order).
  std::string shuffle_seed;
  // The key of the network a pass records (PassNetworkOf,
  // queue/pass_networks.h): secret, derived from the first signing key.
  uint64_t pass_network_key = 0;
  std::optional<QueuePage> page;
  // CookieName(kind, config.name, tls), made once:
  // [kind == kPass][tls] (every visit looks up one or two of them).
  std::string cookie_names[2][2];
  const std::string& cookie_name(CookieKind kind, bool tls) const {
    return cookie_names[kind == CookieKind::kPass][tls];
  }
};

// The path prefix a room `match` pattern stands for when it is "^" and
// plain path characters only (CompiledRoom::match_prefixes); nullopt when
// it needs RE2. In config/ (config/room_match.h): the loader's warning about
// a room shadowed by an earlier one reads patterns the same way.
using config::LiteralPrefixPattern;

// The spellings of a request path the rooms judge (case 44; the threat
// model in docs/waiting-room.md). `plain` is proxy::NormalizePath(target)
// (an encoded slash stays an ordinary character); `slashes_decoded` is the
// same with "%2F", "%5C" and a raw '\' read as '/' first, the way many
// origins and frameworks route them ("/api%2Fpayments" → "/api/payments",
// "/static/..%2Fcart" → "/cart"), or empty when the target has none of them
// (then it would equal `plain`). A room matches when ANY spelling matches
// its `match`; `bypass_paths` let a request past only when EVERY spelling
// matches: no spelling of a path gets past a room that another spelling of
// the same origin path would be queued by.
struct RoomPath {
  std::string_view plain;
  std::string_view slashes_decoded;
};
// The spellings of `target`'s path. Views of `target` (when its path is
// canonical) or of the storages; valid while all three live unchanged. No
// allocation for a canonical path without encoded or backslash separators.
RoomPath SpellRoomPath(std::string_view target, std::string* plain_storage,
                       std::string* decoded_storage);

class WaitingRoom {
 public:
  // Tickets, passes and event phases are judged at time.WallNow() (tests
  // pass a common::FakeTimeSource); `time` must outlive the room.
  static std::shared_ptr<const WaitingRoom> Build(
      const config::Config& config, RoomRegistry* registry,
      const proxy::Published<state::RuntimeState>* runtime_state, const common::TimeSource& time,
      std::string* error);

  bool empty() const { return rooms_.empty(); }
  // The first room whose `match` takes any spelling of the path.
  const CompiledRoom* Match(const RoomPath& path) const;
  const CompiledRoom* Match(std::string_view normalized_path) const {
    return Match(RoomPath{normalized_path, {}});
  }
  const CompiledRoom* Find(std::string_view name) const;
  const std::vector<std::unique_ptr<CompiledRoom>>& rooms() const { return rooms_; }

  // The room's settings in force (configuration + run-time overrides). A
  // room with scheduled events takes its marks through `caller`'s link.
  RoomLimits Limits(const CompiledRoom& room, const StoreCaller& caller) const;
  bool Active(const CompiledRoom& room, const RoomLimits& limits) const {
    return room.config.enabled && limits.mode != config::RoomMode::kOff;
  }
  // A cheap first look, per request, before any path or limit work: false
  // when the room cannot hold anyone back now — disabled, or its effective
  // mode is off (a run-time override "off"; or configured off, not
  // overridden, and no scheduled event in its pre-queue or live phase). A
  // room with an event in progress always answers true, so Limits() keeps
  // taking the event's marks. No store call, no allocation; reads the
  // published state, so an override turning the room on or off counts from
  // the next request. When true, Limits() + Active() decide.
  bool MayQueue(const CompiledRoom& room) const;
  // MayQueue() of at least one room (the gate skips the path otherwise).
  bool AnyMayQueue() const;
  // The place in line a ticket is admitted by (compared with `serving`): the
  // ticket itself (fifo), its shuffled number (random) — by the method the
  // ticket was issued under and the room's recorded seed
  // (queue/queue_order.h), never by a later method change or key; scheduled
  // events (queue/room_events.h) will map a pre-queue ticket to its drawn
  // place. nullopt: the place is not known yet (a pre-queue ticket before
  // the draw; the room's order not read from a shared store yet).
  std::optional<uint64_t> PlaceOf(const CompiledRoom& room, const RoomLimits& limits,
                                  uint64_t ticket, int64_t now_ms, const StoreCaller& caller) const;
  // The order of shuffle block `block` of the room: the place of each of
  // its tickets, issued or not, by PlaceOf (room_logic.h OrderOfBlock); not
  // known while one of them is not. `limits` as for PlaceOf (the method in
  // force: a place is looked up, never a method change proposed by it).
  // Without scheduled events the room's queue order answers it, keeping the
  // last block's order while its history does not change
  // (QueueOrder::OrderOfBlock); with events, 64 PlaceOf lookups.
  BlockOrder BlockOrderOf(const CompiledRoom& room, const RoomLimits& limits, uint64_t block,
                          int64_t now_ms, const StoreCaller& caller) const;
  // Sets tick->last_block to the order of the block holding the last ticket
  // issued, when Tick may invite into it (method random, a partly filled
  // block): Tick then invites people, not empty numbers, and Arrive issues
  // no ticket on a number already passed.
  void FillLastBlock(const CompiledRoom& room, const RoomLimits& limits, int64_t now_ms,
                     const StoreCaller& caller, RoomLimits* tick) const;
  // The position shown to the holder of `ticket`, placed at `number`
  // (room_logic.h PositionOf: never above the people waiting ahead + 1,
  // never up while the visitor waits).
  uint64_t PositionOf(const CompiledRoom& room, const RoomLimits& limits, uint64_t ticket,
                      uint64_t number, int64_t now_ms, const StoreCaller& caller) const;
  // False when [rooms.NAME.protect] exclude_paths takes every spelling of
  // the path: auto-protection does not measure the request (slow on purpose).
  bool Measured(const CompiledRoom& room, const RoomPath& path) const;
  // True when a bypass rule lets this request past the room (a path rule:
  // only when it takes every spelling of the path).
  bool Bypassed(const CompiledRoom& room, const proxy::RequestHead& head,
                const proxy::StreamInfo& info, const RoomPath& path) const;
  bool Bypassed(const CompiledRoom& room, const proxy::RequestHead& head,
                const proxy::StreamInfo& info, std::string_view normalized_path) const {
    return Bypassed(room, head, info, RoomPath{normalized_path, {}});
  }
  // Removes every room's bypass secret from a request before it goes to the
  // origin (which would log it): the fields named by any room's
  // `bypass_header`, and the cookies named by any room's `bypass_cookie`
  // (other cookies stay byte-identical, in order). Whatever the path: a
  // client sends them site-wide. Call after Bypassed.
  void StripBypassSecrets(proxy::HeaderList* headers) const;

  // Null when no [secrets].token_keys exist (then no room is active).
  const TokenCodec* codec() const { return codec_ ? &*codec_ : nullptr; }
  // The join challenges' codec (queue/join_challenge.h); null without keys.
  const JoinChallengeCodec* challenge_codec() const {
    return challenge_codec_ ? &*challenge_codec_ : nullptr;
  }
  int64_t NowMs() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               time_->WallNow().time_since_epoch())
        .count();
  }
  pages::Language LanguageOf(const proxy::RequestHead& head) const;
  config::StoreFailureMode on_failure() const { return on_failure_; }

 private:
  std::vector<std::unique_ptr<CompiledRoom>> rooms_;
  std::optional<TokenCodec> codec_;
  std::optional<JoinChallengeCodec> challenge_codec_;
  const proxy::Published<state::RuntimeState>* runtime_state_ = nullptr;
  const common::TimeSource* time_ = nullptr;
  pages::Language default_language_ = pages::Language::kEnglish;
  config::StoreFailureMode on_failure_ = config::StoreFailureMode::kLocal;
  std::vector<std::string> bypass_headers_;  // every room's, without repeats
  std::vector<std::string> bypass_cookies_;
};

}  // namespace tidegate::queue
