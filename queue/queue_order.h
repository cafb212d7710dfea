// QueueOrder: the room's queue order, fixed per ticket once issued — which
// tickets are placed as they came (fifo) and which are shuffled (random),
// and the shuffle seed — kept in the room's store so that every instance,
// a restart (state file) and a signing-key rotation agree on it.
//
// * Method history. queueing_method may change at any time (PATCH
//   /v1/rooms, SIGHUP). A change applies only to tickets not issued yet,
//   from the next shuffle block on (SpanStartAfter: a block never mixes
//   methods); earlier tickets keep the method they were issued under. The
//   history is a list of spans, recorded through RoomStore::Keep/Mark:
//   "order|method|K" = the K-th span's method (first proposal wins, any
//   instance), "order|at|K" (K >= 1) = the `tickets` counter when span K was
//   recorded (a mark), so span K starts at SpanStartAfter(at).
// * Shuffle seed. The first instance to need it records the seed it derives
//   from the first signing key ("order|seed|0…7", 6 bytes each); every
//   instance uses the recorded one from then on, so a key rotation (new key
//   first) does not reshuffle anybody, and the draw stays secret (it never
//   leaves the store and the process).
//
// Contract: thread-safe (one mutex, held to copy a few integers or to look
// up a span; never across a store call). Never blocks on the store: what is
// not known yet is requested (one step in flight for the history: a batch of
// reads, a proposal or a mark; one batch for the seed) and known when the
// store answers — at once with
// LocalRoomStore, a round trip later with Redis. Until then a ticket whose
// place could depend on it has no known place (PlaceOf: nullopt; the queue
// page shows it without a position for a moment, and it does not claim). A
// settled history is re-read once a second (kOrderProbeMillis), so a change
// recorded by another instance is seen within that time. The store must
// outlive the requests it has not answered (answers only touch the shared
// cells).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "queue/room_store.h"

namespace tidegate::queue {

class BlockShuffle;  // queue/room_logic.h

// Tickets from `from` on (up to the next span's `from`) are shuffled
// (queueing_method random) or placed as they are (fifo, passthrough).
struct OrderSpan {
  uint64_t from = 1;
  bool shuffled = false;
};

// The first ticket a method change recorded when `tickets` were issued
// applies to: the first ticket of the next shuffle block.
uint64_t SpanStartAfter(uint64_t tickets);

// The place of `ticket` in a history (spans sorted by `from`, the first from
// 1): ShuffledNumber(ticket, seed) in a shuffled span, else the ticket.
uint64_t PlaceInSpans(const std::vector<OrderSpan>& spans, uint64_t ticket, std::string_view seed);

// True when the span holding `ticket` is shuffled (false for an empty history).
bool ShuffledAt(const std::vector<OrderSpan>& spans, uint64_t ticket);

// The seed kept as kSeedChunks values of 6 bytes (a sentinel bit 48 keeps a
// chunk non-zero); seeds longer than 48 bytes are cut (a derived secret is 43).
inline constexpr size_t kSeedChunks = 8;
uint64_t SeedChunk(std::string_view seed, size_t index);
std::string SeedFromChunks(const std::array<uint64_t, kSeedChunks>& chunks);

// A settled history is read again this often (another instance's change).
inline constexpr int64_t kOrderProbeMillis = 1'000;
// Spans read per history read (one round trip with a shared store).
inline constexpr size_t kOrderReadAhead = 8;

class QueueOrder {
 public:
  QueueOrder();

  // The place of `ticket`, given the method in force now (`shuffled_now`:
  // queueing_method random) and the seed this process would propose
  // (`proposed_seed`, derived from the first signing key). Records a method
  // change, asks for what is unknown; nullopt while the place is not known.
  std::optional<uint64_t> PlaceOf(RoomStore& store, const StoreCaller& caller, bool shuffled_now,
                                  const std::string& proposed_seed, uint64_t ticket,
                                  int64_t now_ms);
  // The recorded seed, once known (scheduled events' draw), after a PlaceOf
  // or Update of the same room.
  std::optional<std::string> Seed(RoomStore& store, const StoreCaller& caller, bool shuffled_now,
                                  const std::string& proposed_seed, int64_t now_ms);
  // True when the block holding ticket `tickets` is shuffled by the known
  // history (Tick's invite ceiling: a random block is invited to its end).
  bool ShuffledAt(uint64_t ticket) const;
  // The order of shuffle block `block` by this history (room_logic.h
  // OrderOfBlock over PlaceOf of its 64 tickets, one history snapshot
  // under one lock): not known while one of its places is not. The last
  // known order is kept with the history's generation and the method it
  // was read under, and given again until the history changes (any answer
  // of the store: a read, a mark, a proposal, the seed): a queued answer
  // and a tick of a random room ask for the same block, and its places
  // are what PlaceOf would give each time. PlaceOf reads the kept order too.
  BlockOrder OrderOfBlock(RoomStore& store, const StoreCaller& caller, bool shuffled_now,
                          const std::string& proposed_seed, uint64_t block, int64_t now_ms);
  // What is known of the history, for a process started after this one
  // (app/state_persistence.h, shared_rooms.json): the spans, the seed's
  // chunks (all 0 while not known) and the tickets the spans certainly
  // place. Recorded spans and the seed never change once recorded (the
  // first proposal wins), so a saved history is never wrong, only maybe
  // short of a span recorded since: the store's reads extend it.
  struct Known {
    std::vector<OrderSpan> spans;
    std::array<uint64_t, kSeedChunks> seed_chunks{};
    uint64_t certain_through = 0;
  };
  Known Export() const;
  // Before the room serves: starts from `known` (a restart while the store
  // may be down: the queued keep their places) when nothing is known yet,
  // as settled; the store is read again at the first call.
  void Adopt(const Known& known);

  // False while no shuffled span is known: one atomic load, no lock (the
  // gate asks on every request before ShuffledAt).
  bool AnyShuffled() const { return cells_->any_shuffled.load(std::memory_order_relaxed); }

  // Asks the store for what is missing or due (the seed; the history's
  // next spans, kOrderReadAhead at a time; a change to record), at most one
  // step in flight. Called by PlaceOf and Seed, and before a newcomer's
  // Arrive (room_visit.cc), so that with a shared store the answers come
  // back before the new ticket's (same connection, in order). A settled
  // history with its seed known has nothing due until the next probe: the
  // calls until then (same method, no answer in between) return after one
  // atomic load, without the mutex.
  void Update(RoomStore& store, const StoreCaller& caller, bool shuffled_now,
              const std::string& proposed_seed, int64_t now_ms);

 private:
  struct Cells {
    std::mutex mutex;
    std::vector<OrderSpan> spans;  // known history
    // The method read for span spans.size() whose "at" mark is not known yet.
    std::optional<bool> next_shuffled;
    bool pending = false;          // a history request in flight
    bool settled = false;          // a read found no span beyond the known ones
    uint64_t certain_through = 0;  // tickets <= this are placed by the known spans
    int64_t probed_ms = 0;
    std::array<uint64_t, kSeedChunks> seed_chunks{};
    bool seed_pending = false;
    std::string seed;      // non-empty once every chunk is known
    uint64_t answers = 0;  // answered requests (a LocalRoomStore answers at once)
    // Bumped by every store answer (any of them may change a place's
    // answer); the kept block order is valid for one generation.
    uint64_t generation = 0;
    struct KeptBlock {
      BlockOrder order;  // known (when `set`)
      bool shuffled_now = false;
      uint64_t generation = 0;
      bool set = false;
    } kept;
    // Update has nothing to ask before this time under this method: (the
    // next probe's time in ms) * 2 + (1: random, 0: fifo); 0 = ask. Set by
    // Update under the mutex, cleared by every answer; read without it.
    std::atomic<int64_t> quiet{0};
    // Set (never cleared) once a shuffled span is known; read without the mutex.
    std::atomic<bool> any_shuffled{false};
  };
  // PlaceOf's answer from the known history, under the mutex; `shuffle`
  // (when not null) is the BlockShuffle of the ticket's block and seed.
  static std::optional<uint64_t> PlaceLocked(const Cells& c, bool shuffled_now, uint64_t ticket,
                                             const BlockShuffle* shuffle);
  std::shared_ptr<Cells> cells_;
};

}  // namespace tidegate::queue
