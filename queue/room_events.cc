#include "queue/room_events.h"

#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "queue/queue_page.h"
#include "queue/room_logic.h"

namespace tidegate::queue {
namespace {

using state::ValueSource;

constexpr int kRounds = 6;  // even: the halves end where they started

uint64_t Mix(uint64_t z) {  // a 64-bit avalanche finalizer
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::array<uint64_t, kRounds> RoundKeys(std::string_view key) {
  unsigned char digest[SHA512_DIGEST_LENGTH];
  SHA512(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  std::array<uint64_t, kRounds> keys{};
  for (int i = 0; i < kRounds; ++i) std::memcpy(&keys[i], digest + 8 * i, 8);
  return keys;
}

uint64_t Mask(int bits) { return bits >= 64 ? ~0ULL : (1ULL << bits) - 1; }

// One pass of the Feistel network over `bits` bits (a bijection of [0, 2^bits)).
uint64_t Encrypt(uint64_t x, int bits, const std::array<uint64_t, kRounds>& keys) {
  int left_bits = bits / 2;
  int right_bits = bits - left_bits;
  for (int r = 0; r < kRounds; ++r) {
    uint64_t left = x >> right_bits;
    uint64_t right = x & Mask(right_bits);
    uint64_t new_right = (left ^ Mix(right ^ keys[r])) & Mask(left_bits);
    x = (right << left_bits) | new_right;
    std::swap(left_bits, right_bits);
  }
  return x;
}

template <typename T>
void Override(const state::Sourced<T>& effective, const std::optional<T>& event, T* out) {
  if (event && effective.source == ValueSource::kConfig) *out = *event;
}

}  // namespace

std::string_view EventPhaseName(EventPhase phase) {
  switch (phase) {
    case EventPhase::kPrequeue:
      return "prequeue";
    case EventPhase::kLive:
      return "live";
    case EventPhase::kNone:
      break;
  }
  return "none";
}

int64_t ToUnixMs(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

EventState EventStateAt(const std::vector<config::RoomEventConfig>& events, int64_t now_ms) {
  EventState s;
  for (const config::RoomEventConfig& e : events) {
    int64_t prequeue = ToUnixMs(e.prequeue_start);
    int64_t start = ToUnixMs(e.start);
    int64_t end = ToUnixMs(e.end);
    if (now_ms < prequeue) {
      s.next_change_ms = prequeue;
      break;
    }
    if (now_ms >= end) continue;
    s.event = &e;
    s.phase = now_ms < start ? EventPhase::kPrequeue : EventPhase::kLive;
    s.next_change_ms = now_ms < start ? start : end;
    break;
  }
  return s;
}

RoomLimits LimitsOf(const state::EffectiveRoom& e) {
  RoomLimits l;
  l.mode = e.mode.value;
  l.method = e.queueing_method.value;
  l.total_active_users = e.total_active_users.value;
  l.new_users_per_minute = e.new_users_per_minute.value;
  l.session_ms = e.session_duration.value.count();
  return l;
}

RoomLimits LimitsWithEvents(const state::EffectiveRoom& e, const EventState& state) {
  RoomLimits l = LimitsOf(e);
  if (state.phase == EventPhase::kNone || state.event == nullptr) return l;
  const config::RoomEventConfig& ev = *state.event;
  // An event protects the shop: a room configured off runs in auto during it.
  if (e.mode.source == ValueSource::kConfig) {
    l.mode = ev.mode.value_or(l.mode == config::RoomMode::kOff ? config::RoomMode::kAuto : l.mode);
  }
  Override(e.queueing_method, ev.queueing_method, &l.method);
  Override(e.total_active_users, ev.total_active_users, &l.total_active_users);
  Override(e.new_users_per_minute, ev.new_users_per_minute, &l.new_users_per_minute);
  config::Duration session = e.session_duration.value;
  Override(e.session_duration, ev.session_duration, &session);
  l.session_ms = session.count();
  if (state.phase == EventPhase::kPrequeue && l.mode != config::RoomMode::kOff) {
    l.mode = config::RoomMode::kQueueAll;
    l.method = config::QueueingMethod::kFifo;
    l.total_active_users = 0;  // nobody invited, nobody admitted
  }
  return l;
}

int64_t InvitationWindowMs(const config::RoomConfig& room) {
  return std::max<int64_t>(room.invitation_window.count(), 3 * room.refresh_interval.count());
}

RoomLimits LimitsInForce(const config::RoomConfig& room, const state::EffectiveRoom& effective,
                         int64_t now_ms) {
  RoomLimits l = room.events.empty()
                     ? LimitsOf(effective)
                     : LimitsWithEvents(effective, EventStateAt(room.events, now_ms));
  l.refresh_ms = room.refresh_interval.count();
  l.invite_window_ms = InvitationWindowMs(room);
  return l;
}

std::string PrequeueMarkName(std::string_view event) {
  return "event:" + std::string(event) + ":prequeue";
}
std::string StartMarkName(std::string_view event) {
  return "event:" + std::string(event) + ":start";
}

DrawPermuter::DrawPermuter(std::string_view key) : round_keys_(RoundKeys(key)) {}

uint64_t DrawPermuter::Permute(uint64_t index, uint64_t n) const {
  if (n <= 1 || index >= n) return index;
  int bits = 2;
  while (bits < 64 && (1ULL << bits) < n) ++bits;
  uint64_t x = Encrypt(index, bits, round_keys_);
  while (x >= n) x = Encrypt(x, bits, round_keys_);  // cycle-walking: a bijection of [0, n)
  return x;
}

uint64_t DrawPermutation(uint64_t index, uint64_t n, std::string_view key) {
  return DrawPermuter(key).Permute(index, n);
}

TicketPlace PlaceWithEvents(const std::vector<config::RoomEventConfig>& events,
                            const std::vector<EventMarksView>& marks, uint64_t ticket,
                            int64_t now_ms, std::string_view seed) {
  TicketPlace out;
  for (size_t i = 0; i < events.size() && i < marks.size(); ++i) {
    const config::RoomEventConfig& e = events[i];
    if (now_ms < ToUnixMs(e.prequeue_start)) break;  // sorted: later ones not begun either
    const EventMarksView& m = marks[i];
    int64_t draw_at = ToUnixMs(e.start);
    if (!m.prequeue) {  // not fetched yet: cannot tell (transient)
      out.fate = TicketFate::kAwaitDraw;
      out.draw_at_ms = draw_at;
      return out;
    }
    if (ticket <= *m.prequeue) break;  // issued before this pre-queue
    if (now_ms < draw_at || !m.start) {
      out.fate = TicketFate::kAwaitDraw;
      out.draw_at_ms = draw_at;
      return out;
    }
    if (ticket <= *m.start) {
      uint64_t n = *m.start - *m.prequeue;
      std::string key(seed);
      key += "|event|";
      key += e.name;
      out.fate = TicketFate::kDrawn;
      out.place = *m.prequeue + 1 + DrawPermutation(ticket - *m.prequeue - 1, n, key);
      return out;
    }
  }
  // Not drawn. queueing_method random shuffles blocks of kShuffleBlock
  // tickets: a ticket whose block meets a drawn range keeps its number, so
  // that no place is given twice.
  uint64_t block_first = ticket == 0 ? 0 : (ticket - 1) / kShuffleBlock * kShuffleBlock + 1;
  uint64_t block_last = block_first + kShuffleBlock - 1;
  for (size_t i = 0; i < events.size() && i < marks.size(); ++i) {
    const EventMarksView& m = marks[i];
    if (!m.prequeue || !m.start || *m.start == *m.prequeue) continue;
    if (block_first <= *m.start && block_last > *m.prequeue) {
      out.fate = TicketFate::kFifo;
      out.place = ticket;
      return out;
    }
  }
  return out;
}

std::string PrequeueMessage(int64_t draw_at_ms, int64_t now_ms, pages::Language language) {
  std::string at = QueuePage::ComingTimeText(draw_at_ms, now_ms, language);
  if (language == pages::Language::kFrench) {
    return "La vente ouvre à " + at +
           ". Tous les visiteurs arrivés avant l'ouverture reçoivent leur place par tirage au "
           "sort à " +
           at + " ; gardez cette page ouverte.";
  }
  return "The sale opens at " + at +
         ". Everyone who arrives before then gets a place drawn at random at " + at +
         "; keep this page open.";
}

std::string DrawAtText(int64_t draw_at_ms, int64_t now_ms, pages::Language language) {
  std::string at = QueuePage::ComingTimeText(draw_at_ms, now_ms, language);
  return language == pages::Language::kFrench ? "tirage au sort à " + at : "draw at " + at;
}

}  // namespace tidegate::queue
