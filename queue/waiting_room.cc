#include "queue/waiting_room.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "common/ascii.h"
#include "common/cidr.h"
#include "proxy/cookie_header.h"
#include "proxy/path_normalizer.h"
#include "proxy/path_pattern.h"
#include "queue/cookies.h"
#include "queue/room_events.h"
#include "queue/room_logic.h"
#include "state/effective_view.h"

namespace tidegate::queue {
namespace {

bool SecretEquals(std::string_view presented, const std::string& secret) {
  return presented.size() == secret.size() &&
         CRYPTO_memcmp(presented.data(), secret.data(), secret.size()) == 0;
}

}  // namespace

std::optional<uint64_t> WaitingRoom::PlaceOf(const CompiledRoom& room, const RoomLimits& limits,
                                             uint64_t ticket, int64_t now_ms,
                                             const StoreCaller& caller) const {
  // The order a ticket was issued under (queue/queue_order.h): a method
  // change or a key rotation never moves a ticket already issued.
  QueueOrder& order = room.runtime->queue_order;
  bool shuffled_now = limits.method == config::QueueingMethod::kRandom;
  const std::vector<config::RoomEventConfig>& events = room.config.events;
  if (!events.empty()) {  // scheduled events (queue/room_events.h): the draw
    std::optional<std::string> seed =
        order.Seed(room.runtime->store(), caller, shuffled_now, room.shuffle_seed, now_ms);
    if (!seed) return std::nullopt;  // the recorded seed is not known yet
    std::vector<EventMarksView> marks =
        room.runtime->event_marks.Ensure(room.runtime->store(), caller, events, now_ms);
    TicketPlace p = PlaceWithEvents(events, marks, ticket, now_ms, *seed);
    switch (p.fate) {
      case TicketFate::kDrawn:
      case TicketFate::kFifo:
        return p.place;
      case TicketFate::kAwaitDraw:
        return std::nullopt;
      case TicketFate::kOrdinary:
        break;
    }
  }
  return order.PlaceOf(room.runtime->store(), caller, shuffled_now, room.shuffle_seed, ticket,
                       now_ms);
}

BlockOrder WaitingRoom::BlockOrderOf(const CompiledRoom& room, const RoomLimits& limits,
                                     uint64_t block, int64_t now_ms,
                                     const StoreCaller& caller) const {
  if (room.config.events.empty()) {
    // Places from the queue order alone: it keeps the last block's order
    // until its history changes (64 places per queued answer otherwise).
    return room.runtime->queue_order.OrderOfBlock(room.runtime->store(), caller,
                                                  limits.method == config::QueueingMethod::kRandom,
                                                  room.shuffle_seed, block, now_ms);
  }
  return OrderOfBlock(block, [&](uint64_t ticket) {
    std::optional<uint64_t> place = PlaceOf(room, limits, ticket, now_ms, caller);
    // UINT64_MAX never comes from PlaceOf; nullopt makes the block unknown.
    return place;
  });
}

void WaitingRoom::FillLastBlock(const CompiledRoom& room, const RoomLimits& limits, int64_t now_ms,
                                const StoreCaller& caller, RoomLimits* tick) const {
  if (tick->method != config::QueueingMethod::kRandom) return;
  uint64_t tickets = room.runtime->store().Snapshot().tickets;
  if (tickets % kShuffleBlock == 0) return;  // no partly filled block
  tick->last_block = BlockOrderOf(room, limits, (tickets - 1) / kShuffleBlock, now_ms, caller);
}

uint64_t WaitingRoom::PositionOf(const CompiledRoom& room, const RoomLimits& limits,
                                 uint64_t ticket, uint64_t number, int64_t now_ms,
                                 const StoreCaller& caller) const {
  uint64_t serving = room.runtime->store().Snapshot().serving;
  if (number <= serving) return 1;
  // No shuffled span: every number ahead is a person (fifo, or a place
  // drawn by an event).
  if (!room.runtime->queue_order.AnyShuffled()) return number - serving;
  const std::vector<config::RoomEventConfig>& events = room.config.events;
  if (!events.empty()) {
    // A drawn place (or one kept by a block a draw meets): everyone placed
    // in the draw was there at the draw, every number ahead counts.
    QueueOrder& order = room.runtime->queue_order;
    std::optional<std::string> seed =
        order.Seed(room.runtime->store(), caller, limits.method == config::QueueingMethod::kRandom,
                   room.shuffle_seed, now_ms);
    if (!seed) return number - serving;
    std::vector<EventMarksView> marks =
        room.runtime->event_marks.Ensure(room.runtime->store(), caller, events, now_ms);
    if (PlaceWithEvents(events, marks, ticket, now_ms, *seed).fate != TicketFate::kOrdinary) {
      return number - serving;
    }
  }
  BlockOrder order = BlockOrderOf(room, limits, (ticket - 1) / kShuffleBlock, now_ms, caller);
  return queue::PositionOf(ticket, number, serving, order);
}

std::shared_ptr<const WaitingRoom> WaitingRoom::Build(
    const config::Config& config, RoomRegistry* registry,
    const proxy::Published<state::RuntimeState>* runtime_state, const common::TimeSource& time,
    std::string* error) {
  auto wr = std::make_shared<WaitingRoom>();
  wr->runtime_state_ = runtime_state;
  wr->time_ = &time;
  wr->default_language_ =
      pages::ParseLanguageCode(config.site.default_language).value_or(pages::Language::kEnglish);
  wr->on_failure_ = registry != nullptr ? registry->on_failure() : config.state.on_failure;
  if (!config.secrets.token_keys.empty()) {
    std::vector<SigningKey> keys;
    for (const auto& k : config.secrets.token_keys) keys.push_back({k.id, k.secret});
    wr->codec_.emplace(std::move(keys));
    wr->challenge_codec_.emplace(common::SignedTokenCodec::FromKeys(config.secrets.token_keys));
  }
  // The incident or banner the queue pages show (shared by every room).
  auto notice = std::make_shared<const QueuePageNotice>(config, runtime_state, time);
  for (const config::RoomConfig& rc : config.rooms) {
    auto room = std::make_unique<CompiledRoom>();
    room->config = rc;
    for (CookieKind kind : {CookieKind::kWait, CookieKind::kPass}) {
      for (bool tls : {false, true}) {
        room->cookie_names[kind == CookieKind::kPass][tls] = CookieName(kind, rc.name, tls);
      }
    }
    // The path policy of the maintenance features (proxy/path_pattern.h):
    // matched case-insensitively on proxy::NormalizePath(target).
    const RE2::Options options = proxy::PathPatternOptions();
    for (const std::string& p : rc.match) {
      room->match.push_back(std::make_unique<RE2>(p, options));
      room->match_prefixes.push_back(LiteralPrefixPattern(p));
    }
    for (const std::string& p : rc.bypass_paths) {
      room->bypass_paths.push_back(std::make_unique<RE2>(p, options));
    }
    for (const std::string& p : rc.protect.exclude_paths) {
      room->unmeasured_paths.push_back(std::make_unique<RE2>(p, options));
    }
    auto add_once = [](std::vector<std::string>* names, const std::string& name) {
      if (!name.empty() && std::find(names->begin(), names->end(), name) == names->end()) {
        names->push_back(name);
      }
    };
    add_once(&wr->bypass_headers_, rc.bypass_header);
    add_once(&wr->bypass_cookies_, rc.bypass_cookie);
    room->runtime = registry->Get(rc.name);
    room->runtime->protection.Configure(rc.protect);
    // The seed this process proposes; the room's store keeps the first one
    // recorded (queue/queue_order.h), so a key rotation changes nothing.
    if (wr->codec_) room->shuffle_seed = wr->codec_->DerivedSecret("shuffle|" + rc.name);
    // The same on every instance with the same keys (a pass renewed on
    // another instance keeps its network).
    if (wr->codec_) {
      for (char c : wr->codec_->DerivedSecret("pass_network|" + rc.name)) {
        room->pass_network_key = room->pass_network_key * 131 + static_cast<unsigned char>(c);
      }
    }
    int refresh = static_cast<int>(rc.refresh_interval.count() / 1000);
    int pow_bits = rc.join_challenge == config::JoinChallengeKind::kPow
                       ? static_cast<int>(rc.join_challenge_bits)
                       : 0;
    room->page =
        QueuePage::Build(config.site, rc.name, refresh < 1 ? 1 : refresh, error, pow_bits, notice);
    if (!room->page) return nullptr;
    wr->rooms_.push_back(std::move(room));
  }
  return wr;
}

namespace {
bool MatchesRoom(const CompiledRoom& room, std::string_view path) {
  for (size_t i = 0; i < room.match.size(); ++i) {
    const std::optional<std::string>& prefix = room.match_prefixes[i];
    bool matched = prefix ? path.size() >= prefix->size() &&
                                common::EqualsIgnoreCase(path.substr(0, prefix->size()), *prefix)
                          : RE2::PartialMatch(path, *room.match[i]);
    if (matched) return true;
  }
  return false;
}

bool MatchesAnyPath(const std::vector<std::unique_ptr<RE2>>& patterns, std::string_view path) {
  for (const auto& re : patterns) {
    if (RE2::PartialMatch(path, *re)) return true;
  }
  return false;
}

bool MatchesBypassPath(const CompiledRoom& room, std::string_view path) {
  return MatchesAnyPath(room.bypass_paths, path);
}

// True when the path part of `target` holds "%2F", "%5C" (any case) or '\'.
bool HasEncodedSeparator(std::string_view target) {
  for (size_t i = 0; i < target.size(); ++i) {
    char c = target[i];
    if (c == '?' || c == '#') return false;
    if (c == '\\') return true;
    if (c == '%' && i + 2 < target.size() && (target[i + 1] == '2' || target[i + 1] == '5')) {
      char d = static_cast<char>(target[i + 2] | 0x20);
      if ((target[i + 1] == '2' && d == 'f') || (target[i + 1] == '5' && d == 'c')) return true;
    }
  }
  return false;
}
}  // namespace

RoomPath SpellRoomPath(std::string_view target, std::string* plain_storage,
                       std::string* decoded_storage) {
  RoomPath path;
  path.plain = proxy::NormalizePathView(target, plain_storage);
  if (HasEncodedSeparator(target)) {
    *decoded_storage = proxy::NormalizePath(target, {.decode_slashes = true});
    if (*decoded_storage != path.plain) path.slashes_decoded = *decoded_storage;
  }
  return path;
}

const CompiledRoom* WaitingRoom::Match(const RoomPath& path) const {
  for (const auto& room : rooms_) {
    if (MatchesRoom(*room, path.plain)) return room.get();
    if (!path.slashes_decoded.empty() && MatchesRoom(*room, path.slashes_decoded)) {
      return room.get();
    }
  }
  return nullptr;
}

const CompiledRoom* WaitingRoom::Find(std::string_view name) const {
  for (const auto& room : rooms_) {
    if (room->config.name == name) return room.get();
  }
  return nullptr;
}

RoomLimits WaitingRoom::Limits(const CompiledRoom& room, const StoreCaller& caller) const {
  static const state::RuntimeState kEmpty;
  const state::RuntimeState& state = runtime_state_ ? runtime_state_->Get() : kEmpty;
  state::EffectiveRoom effective = state::EffectiveRoomSettings(room.config, state);
  RoomLimits limits;
  if (room.config.events.empty()) {
    limits = LimitsOf(effective);
  } else {
    // Scheduled events: take the marks this phase needs (the pre-queue mark
    // before any pre-queue ticket is issued by this request), then the limits.
    int64_t now = NowMs();
    room.runtime->event_marks.Take(room.runtime->store(), caller, room.config.events, now);
    limits = LimitsWithEvents(effective, EventStateAt(room.config.events, now));
  }
  limits.refresh_ms = room.config.refresh_interval.count();
  limits.invite_window_ms = InvitationWindowMs(room.config);
  // Auto-protection: the limits above are ceilings; the controller's
  // effective ones (queue/protect_room.h) apply when lower.
  // The operators' switch (PATCH /v1/rooms {"protect": false}) wins over
  // [rooms.NAME.protect] enabled.
  room.runtime->protection.Switch(effective.protect.value);
  return room.runtime->protection.Apply(limits);
}

namespace {

bool MayQueueIn(const CompiledRoom& room, const state::RuntimeState& state, int64_t now_ms) {
  const config::RoomConfig& c = room.config;
  if (!c.enabled) return false;
  // A scheduled event in progress: Limits() takes its marks (and decides).
  if (!c.events.empty() && EventStateAt(c.events, now_ms).phase != EventPhase::kNone) return true;
  auto it = state.rooms.find(c.name);
  if (it != state.rooms.end() && it->second.mode) return *it->second.mode != config::RoomMode::kOff;
  return c.mode != config::RoomMode::kOff;
}

}  // namespace

bool WaitingRoom::MayQueue(const CompiledRoom& room) const {
  static const state::RuntimeState kEmpty;
  const state::RuntimeState& state = runtime_state_ ? runtime_state_->Get() : kEmpty;
  return MayQueueIn(room, state, room.config.events.empty() ? 0 : NowMs());
}

bool WaitingRoom::AnyMayQueue() const {
  static const state::RuntimeState kEmpty;
  const state::RuntimeState& state = runtime_state_ ? runtime_state_->Get() : kEmpty;
  for (const auto& room : rooms_) {
    if (MayQueueIn(*room, state, room->config.events.empty() ? 0 : NowMs())) return true;
  }
  return false;
}

bool WaitingRoom::Measured(const CompiledRoom& room, const RoomPath& path) const {
  if (room.unmeasured_paths.empty()) return true;
  // Excluded only when every spelling is (as a bypass rule).
  return !(MatchesAnyPath(room.unmeasured_paths, path.plain) &&
           (path.slashes_decoded.empty() ||
            MatchesAnyPath(room.unmeasured_paths, path.slashes_decoded)));
}

bool WaitingRoom::Bypassed(const CompiledRoom& room, const proxy::RequestHead& head,
                           const proxy::StreamInfo& info, const RoomPath& path) const {
  const config::RoomConfig& c = room.config;
  if (common::InAnyBlock(info.client_ip, c.bypass_ips)) return true;
  if (MatchesBypassPath(room, path.plain) &&
      (path.slashes_decoded.empty() || MatchesBypassPath(room, path.slashes_decoded))) {
    return true;
  }
  if (!c.bypass_secret.empty()) {
    if (!c.bypass_header.empty()) {
      for (const proxy::Header& h : head.headers.fields()) {
        if (proxy::EqualsIgnoreCase(h.name, c.bypass_header) &&
            SecretEquals(h.value, c.bypass_secret)) {
          return true;
        }
      }
    }
    if (!c.bypass_cookie.empty()) {
      for (std::string_view v : CookieValues(head.headers, c.bypass_cookie)) {
        if (SecretEquals(v, c.bypass_secret)) return true;
      }
    }
  }
  return false;
}

void WaitingRoom::StripBypassSecrets(proxy::HeaderList* headers) const {
  for (const std::string& name : bypass_headers_) headers->Remove(name);
  for (const std::string& name : bypass_cookies_) proxy::RemoveCookie(headers, name);
}

pages::Language WaitingRoom::LanguageOf(const proxy::RequestHead& head) const {
  const std::string* accept = head.headers.Find("Accept-Language");
  return pages::PickLanguage(accept ? *accept : std::string_view(), default_language_);
}

}  // namespace tidegate::queue
