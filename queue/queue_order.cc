#include "queue/queue_order.h"

#include <algorithm>

#include "queue/room_logic.h"

namespace tidegate::queue {
namespace {

constexpr uint64_t kFifoValue = 1;  // kept method values (0 = nothing kept)
constexpr uint64_t kShuffledValue = 2;
constexpr uint64_t kSeedSentinel = uint64_t{1} << 48;

std::string MethodName(size_t k) { return "order|method|" + std::to_string(k); }
std::string AtName(size_t k) { return "order|at|" + std::to_string(k); }
std::string SeedName(size_t i) { return "order|seed|" + std::to_string(i); }

std::vector<OrderSpan>::const_iterator SpanOf(const std::vector<OrderSpan>& spans,
                                              uint64_t ticket) {
  auto it = std::upper_bound(spans.begin(), spans.end(), ticket,
                             [](uint64_t t, const OrderSpan& s) { return t < s.from; });
  return it == spans.begin() ? spans.end() : it - 1;
}

}  // namespace

uint64_t SpanStartAfter(uint64_t tickets) {
  return (tickets + kShuffleBlock - 1) / kShuffleBlock * kShuffleBlock + 1;
}

uint64_t PlaceInSpans(const std::vector<OrderSpan>& spans, uint64_t ticket, std::string_view seed) {
  auto it = SpanOf(spans, ticket);
  if (it != spans.end() && it->shuffled) return ShuffledNumber(ticket, seed);
  return ticket;
}

bool ShuffledAt(const std::vector<OrderSpan>& spans, uint64_t ticket) {
  auto it = SpanOf(spans, ticket);
  return it != spans.end() && it->shuffled;
}

uint64_t SeedChunk(std::string_view seed, size_t index) {
  uint64_t v = kSeedSentinel;
  for (size_t b = 0; b < 6; ++b) {
    size_t at = index * 6 + b;
    if (at < seed.size()) v |= uint64_t{static_cast<unsigned char>(seed[at])} << (8 * b);
  }
  return v;
}

std::string SeedFromChunks(const std::array<uint64_t, kSeedChunks>& chunks) {
  std::string seed;
  for (uint64_t v : chunks) {
    for (size_t b = 0; b < 6; ++b) {
      char c = static_cast<char>((v >> (8 * b)) & 0xff);
      if (c == 0) return seed;
      seed.push_back(c);
    }
  }
  return seed;
}

QueueOrder::QueueOrder() : cells_(std::make_shared<Cells>()) {}

void QueueOrder::Update(RoomStore& store, const StoreCaller& caller, bool shuffled_now,
                        const std::string& proposed_seed, int64_t now_ms) {
  // Nothing to ask until the next probe (the last pass found nothing to do
  // under the same method, and no answer came since): no lock.
  int64_t quiet = cells_->quiet.load(std::memory_order_acquire);
  if (quiet != 0 && now_ms < (quiet >> 1) && (quiet & 1) == (shuffled_now ? 1 : 0)) return;
  std::weak_ptr<Cells> weak = cells_;
  // Each pass issues at most one step; a LocalRoomStore answers at once, so
  // the loop walks the whole history in one call.
  for (int pass = 0; pass < 64; ++pass) {
    enum { kNone, kRead, kPropose, kMarkAt } step = kNone;
    size_t k = 0;
    uint64_t answers = 0;
    bool ask_seed = false;
    {
      std::lock_guard<std::mutex> lock(cells_->mutex);
      Cells& c = *cells_;
      answers = c.answers;
      k = c.spans.size();
      if (!c.pending) {
        bool changed = !c.spans.empty() && c.spans.back().shuffled != shuffled_now;
        if (c.next_shuffled) {
          step = kMarkAt;
        } else if (changed && c.settled) {
          step = kPropose;
        } else if (c.spans.empty() || !c.settled || now_ms - c.probed_ms >= kOrderProbeMillis) {
          step = kRead;
        }
        if (step != kNone) c.pending = true;
      }
      // The seed is read with the first history read (one round trip with a
      // shared store), whatever the method: a later switch to random needs it.
      if (c.seed.empty() && !c.seed_pending && !proposed_seed.empty()) {
        c.seed_pending = true;
        ask_seed = true;
      }
      if (step == kNone && !c.pending && !c.seed.empty()) {
        // Settled, read less than kOrderProbeMillis ago, the seed known:
        // the same call asks nothing until the probe is due or an answer
        // changes the cells (which clears this).
        c.quiet.store((c.probed_ms + kOrderProbeMillis) * 2 + (shuffled_now ? 1 : 0),
                      std::memory_order_release);
      }
    }
    if (ask_seed) {
      auto left = std::make_shared<size_t>(kSeedChunks);
      for (size_t i = 0; i < kSeedChunks; ++i) {
        store.Keep(caller, SeedName(i), SeedChunk(proposed_seed, i), now_ms,
                   [weak, i, left](const StoreResult<uint64_t>& r) {
                     std::shared_ptr<Cells> cells = weak.lock();
                     if (!cells) return;
                     std::lock_guard<std::mutex> lock(cells->mutex);
                     if (r.ok && r.value != 0) cells->seed_chunks[i] = r.value;
                     if (--*left > 0) return;
                     cells->seed_pending = false;  // a failed chunk is asked again later
                     ++cells->generation;
                     cells->quiet.store(0, std::memory_order_release);
                     if (std::all_of(cells->seed_chunks.begin(), cells->seed_chunks.end(),
                                     [](uint64_t v) { return v != 0; })) {
                       cells->seed = SeedFromChunks(cells->seed_chunks);
                     }
                   });
      }
    }
    if (step == kNone) return;
    uint64_t my_value = shuffled_now ? kShuffledValue : kFifoValue;
    if (step == kMarkAt) {
      store.Mark(caller, AtName(k), now_ms, [weak, k](const StoreResult<uint64_t>& r) {
        std::shared_ptr<Cells> cells = weak.lock();
        if (!cells) return;
        std::lock_guard<std::mutex> lock(cells->mutex);
        cells->pending = false;
        ++cells->answers;
        ++cells->generation;
        cells->quiet.store(0, std::memory_order_release);
        if (!r.ok || cells->spans.size() != k || !cells->next_shuffled) return;
        uint64_t from = std::max(SpanStartAfter(r.value), cells->spans.back().from);
        cells->spans.push_back({from, *cells->next_shuffled});
        if (*cells->next_shuffled) cells->any_shuffled.store(true, std::memory_order_relaxed);
        cells->next_shuffled.reset();
        cells->settled = false;  // read whether a further span exists
      });
    } else if (step == kPropose) {
      // This instance's method differs from the last recorded one: propose
      // it as the next span (the first proposal wins), then mark where.
      store.Keep(caller, MethodName(k), my_value, now_ms,
                 [weak, k](const StoreResult<uint64_t>& r) {
                   std::shared_ptr<Cells> cells = weak.lock();
                   if (!cells) return;
                   std::lock_guard<std::mutex> lock(cells->mutex);
                   cells->pending = false;
                   ++cells->answers;
                   ++cells->generation;
                   cells->quiet.store(0, std::memory_order_release);
                   if (!r.ok || r.value == 0 || cells->spans.size() != k) return;
                   cells->next_shuffled = r.value == kShuffledValue;
                   cells->settled = false;
                 });
    } else {
      // One batch (one round trip with a shared store): the next
      // kOrderReadAhead spans' methods and marks, read only — but span 0,
      // which this instance proposes. A read that finds nothing beyond
      // settles the history: any span recorded later starts after the
      // tickets issued by now, so those are placed for sure.
      uint64_t tickets_before = store.Snapshot().tickets;
      struct Batch {
        size_t left = 0;
        bool failed = false;
        std::array<uint64_t, kOrderReadAhead> method{};
        std::array<uint64_t, kOrderReadAhead> at{};
      };
      auto batch = std::make_shared<Batch>();
      batch->left = 2 * kOrderReadAhead;
      auto finish = [weak, k, now_ms, tickets_before, batch]() {
        std::shared_ptr<Cells> cells = weak.lock();
        if (!cells) return;
        std::lock_guard<std::mutex> lock(cells->mutex);
        cells->pending = false;
        ++cells->answers;
        ++cells->generation;
        cells->quiet.store(0, std::memory_order_release);
        if (batch->failed || cells->spans.size() != k) return;
        cells->probed_ms = now_ms;
        cells->settled = false;
        for (size_t j = 0; j < kOrderReadAhead; ++j) {
          uint64_t m = batch->method[j];
          if (m == 0) {  // nothing recorded beyond the known spans
            cells->settled = true;
            cells->certain_through =
                std::max(cells->certain_through, SpanStartAfter(tickets_before) - 1);
            return;
          }
          bool shuffled = m == kShuffledValue;
          if (shuffled) cells->any_shuffled.store(true, std::memory_order_relaxed);
          if (k + j == 0) {
            cells->spans.push_back({1, shuffled});
          } else if (batch->at[j] == 0) {  // its recorder has not marked it yet
            cells->next_shuffled = shuffled;
            return;
          } else {
            uint64_t from = std::max(SpanStartAfter(batch->at[j]), cells->spans.back().from);
            cells->spans.push_back({from, shuffled});
          }
        }
      };
      for (size_t j = 0; j < kOrderReadAhead; ++j) {
        auto answer = [batch, finish](std::array<uint64_t, kOrderReadAhead>* into, size_t j) {
          return [batch, finish, into, j](const StoreResult<uint64_t>& r) {
            if (r.ok) {
              (*into)[j] = r.value;
            } else {
              batch->failed = true;
            }
            if (--batch->left == 0) finish();
          };
        };
        uint64_t proposal = k + j == 0 ? my_value : 0;
        store.Keep(caller, MethodName(k + j), proposal, now_ms, answer(&batch->method, j));
        if (k + j == 0) {
          if (--batch->left == 0) finish();  // span 0 has no mark
        } else {
          store.Keep(caller, AtName(k + j), 0, now_ms, answer(&batch->at, j));
        }
      }
    }
    std::lock_guard<std::mutex> lock(cells_->mutex);
    if (cells_->answers == answers) return;  // answered later (a shared store)
  }
}

QueueOrder::Known QueueOrder::Export() const {
  std::lock_guard<std::mutex> lock(cells_->mutex);
  Known known;
  known.spans = cells_->spans;
  if (!cells_->seed.empty()) known.seed_chunks = cells_->seed_chunks;
  known.certain_through = cells_->certain_through;
  return known;
}

void QueueOrder::Adopt(const Known& known) {
  if (known.spans.empty() || known.spans.front().from != 1) return;
  std::lock_guard<std::mutex> lock(cells_->mutex);
  Cells& c = *cells_;
  if (!c.spans.empty() || c.pending) return;
  c.spans = known.spans;
  for (const OrderSpan& span : c.spans) {
    if (span.shuffled) c.any_shuffled.store(true, std::memory_order_relaxed);
  }
  if (std::all_of(known.seed_chunks.begin(), known.seed_chunks.end(),
                  [](uint64_t v) { return v != 0; })) {
    c.seed_chunks = known.seed_chunks;
    c.seed = SeedFromChunks(c.seed_chunks);
  }
  c.certain_through = known.certain_through;
  c.settled = true;
  c.probed_ms = 0;  // read again at the first call
  ++c.generation;
  c.quiet.store(0, std::memory_order_release);
}

std::optional<uint64_t> QueueOrder::PlaceLocked(const Cells& c, bool shuffled_now, uint64_t ticket,
                                                const BlockShuffle* shuffle) {
  if (c.spans.empty()) return std::nullopt;
  bool settled = c.settled && !c.next_shuffled && c.spans.back().shuffled == shuffled_now;
  // Unsettled (a change not recorded yet, or the history not read to its
  // end): a ticket past what is certain may belong to a span not known yet.
  if (!settled && ticket > c.certain_through) return std::nullopt;
  auto it = SpanOf(c.spans, ticket);
  if (it == c.spans.end() || !it->shuffled) return ticket;
  if (c.seed.empty()) return std::nullopt;
  if (shuffle != nullptr) return shuffle->Number(ticket);
  return ShuffledNumber(ticket, c.seed);
}

std::optional<uint64_t> QueueOrder::PlaceOf(RoomStore& store, const StoreCaller& caller,
                                            bool shuffled_now, const std::string& proposed_seed,
                                            uint64_t ticket, int64_t now_ms) {
  Update(store, caller, shuffled_now, proposed_seed, now_ms);
  std::lock_guard<std::mutex> lock(cells_->mutex);
  const Cells& c = *cells_;
  const Cells::KeptBlock& kept = c.kept;
  if (ticket != 0 && kept.set && kept.generation == c.generation &&
      kept.shuffled_now == shuffled_now && kept.order.block == (ticket - 1) / kShuffleBlock) {
    // The kept order of the ticket's block: the number that holds it.
    uint8_t offset = static_cast<uint8_t>((ticket - 1) % kShuffleBlock);
    for (uint64_t i = 0; i < kShuffleBlock; ++i) {
      if (kept.order.ticket_at[i] == offset) return kept.order.block * kShuffleBlock + i + 1;
    }
  }
  return PlaceLocked(c, shuffled_now, ticket, nullptr);
}

BlockOrder QueueOrder::OrderOfBlock(RoomStore& store, const StoreCaller& caller, bool shuffled_now,
                                    const std::string& proposed_seed, uint64_t block,
                                    int64_t now_ms) {
  Update(store, caller, shuffled_now, proposed_seed, now_ms);
  std::lock_guard<std::mutex> lock(cells_->mutex);
  Cells& c = *cells_;
  Cells::KeptBlock& kept = c.kept;
  if (kept.set && kept.generation == c.generation && kept.shuffled_now == shuffled_now &&
      kept.order.block == block) {
    return kept.order;
  }
  std::optional<BlockShuffle> shuffle;
  BlockOrder order = queue::OrderOfBlock(block, [&](uint64_t ticket) {
    if (!shuffle && !c.seed.empty()) shuffle.emplace(block, c.seed);
    return PlaceLocked(c, shuffled_now, ticket, shuffle ? &*shuffle : nullptr);
  });
  if (order.known) kept = {order, shuffled_now, c.generation, true};
  return order;
}

std::optional<std::string> QueueOrder::Seed(RoomStore& store, const StoreCaller& caller,
                                            bool shuffled_now, const std::string& proposed_seed,
                                            int64_t now_ms) {
  Update(store, caller, shuffled_now, proposed_seed, now_ms);
  std::lock_guard<std::mutex> lock(cells_->mutex);
  if (cells_->seed.empty()) return std::nullopt;
  return cells_->seed;
}

bool QueueOrder::ShuffledAt(uint64_t ticket) const {
  std::lock_guard<std::mutex> lock(cells_->mutex);
  return queue::ShuffledAt(cells_->spans, ticket);
}

}  // namespace tidegate::queue
