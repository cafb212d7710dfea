// QueueOrder (queue/queue_order.h): a ticket's place never changes after it
// was issued — not by a queueing_method switch (mid-block, several times),
// not by a signing-key rotation (another proposed seed), not by a restart
// (the state file's marks) or another instance reading the same store.
#include "queue/queue_order.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "queue/local_room_store.h"
#include "queue/room_logic.h"

namespace tidegate::queue {
namespace {

const std::string kSeedA = "seed-derived-from-key-A-0123456789abcdefghij";  // 43+ chars
const std::string kSeedB = "seed-derived-from-key-B-9876543210zyxwvutsrq";

class QueueOrderTest : public ::testing::Test {
 protected:
  uint64_t Issue() {
    RoomLimits limits;
    limits.mode = config::RoomMode::kQueueAll;
    uint64_t ticket = 0;
    store_->Arrive(caller_, limits, now_, false,
                   [&](const StoreResult<ArriveOutcome>& r) { ticket = r.value.ticket; });
    return ticket;
  }
  uint64_t Place(QueueOrder& order, bool shuffled, const std::string& seed, uint64_t ticket,
                 RoomStore* store = nullptr) {
    std::optional<uint64_t> p =
        order.PlaceOf(store ? *store : *store_, caller_, shuffled, seed, ticket, now_);
    EXPECT_TRUE(p.has_value()) << "ticket " << ticket;
    return p.value_or(0);
  }

  std::unique_ptr<LocalRoomStore> store_ = std::make_unique<LocalRoomStore>();
  StoreCaller caller_;
  int64_t now_ = 1'700'000'000'000;
};

TEST(QueueOrderMath, SpanStartsAtTheNextBlock) {
  EXPECT_EQ(SpanStartAfter(0), 1u);
  EXPECT_EQ(SpanStartAfter(1), 65u);
  EXPECT_EQ(SpanStartAfter(63), 65u);
  EXPECT_EQ(SpanStartAfter(64), 65u);
  EXPECT_EQ(SpanStartAfter(65), 129u);
}

TEST(QueueOrderMath, PlaceInSpansFollowsTheTicketsSpan) {
  std::vector<OrderSpan> spans = {{1, false}, {65, true}, {193, false}};
  for (uint64_t t = 1; t <= 64; ++t) EXPECT_EQ(PlaceInSpans(spans, t, kSeedA), t);
  for (uint64_t t = 65; t <= 192; ++t) {
    EXPECT_EQ(PlaceInSpans(spans, t, kSeedA), ShuffledNumber(t, kSeedA));
  }
  for (uint64_t t = 193; t <= 300; ++t) EXPECT_EQ(PlaceInSpans(spans, t, kSeedA), t);
  EXPECT_FALSE(ShuffledAt(spans, 64));
  EXPECT_TRUE(ShuffledAt(spans, 65));
  EXPECT_FALSE(ShuffledAt({}, 5));
}

TEST(QueueOrderMath, SeedSurvivesItsChunks) {
  std::array<uint64_t, kSeedChunks> chunks{};
  for (size_t i = 0; i < kSeedChunks; ++i) {
    chunks[i] = SeedChunk(kSeedA, i);
    EXPECT_NE(chunks[i], 0u);
    EXPECT_LT(chunks[i], uint64_t{1} << 53) << "exact as a Lua/JSON number";
  }
  EXPECT_EQ(SeedFromChunks(chunks), kSeedA.substr(0, 48));
  std::string derived(43, 'x');  // a derived secret's length
  for (size_t i = 0; i < kSeedChunks; ++i) chunks[i] = SeedChunk(derived, i);
  EXPECT_EQ(SeedFromChunks(chunks), derived);
}

// fifo, then random mid-block: the tickets issued keep their places, the
// rest of their block stays fifo, the next blocks are shuffled; every place
// is taken by exactly one ticket.
TEST_F(QueueOrderTest, SwitchMidBlockAppliesFromTheNextBlock) {
  QueueOrder order;
  std::map<uint64_t, uint64_t> place;
  for (int i = 0; i < 40; ++i) {
    uint64_t t = Issue();
    place[t] = Place(order, false, kSeedA, t);
    EXPECT_EQ(place[t], t);
  }
  for (int i = 0; i < 160; ++i) {  // switched to random
    uint64_t t = Issue();
    place[t] = Place(order, true, kSeedA, t);
  }
  std::set<uint64_t> places;
  for (const auto& [t, p] : place) {
    EXPECT_EQ(Place(order, true, kSeedA, t), p) << "ticket " << t << " moved";
    if (t <= 64) {
      EXPECT_EQ(p, t) << "the switch's block stays fifo";
    } else {
      EXPECT_EQ(p, ShuffledNumber(t, kSeedA));
    }
    places.insert(p);
  }
  EXPECT_EQ(places.size(), place.size()) << "two tickets share a place";
  EXPECT_FALSE(order.ShuffledAt(64));
  EXPECT_TRUE(order.ShuffledAt(65));
}

// What a process saved of the history (Export) and its successor adopted
// places every ticket where it was — even against a store that holds
// nothing (Redis down or restarted empty: app/state_persistence.h,
// shared_rooms.json) — and an adoption never replaces a known history.
TEST_F(QueueOrderTest, AnAdoptedHistoryPlacesEveryTicketAsBefore) {
  QueueOrder order;
  std::map<uint64_t, uint64_t> place;
  for (int i = 0; i < 40; ++i) {
    uint64_t t = Issue();
    place[t] = Place(order, false, kSeedA, t);
  }
  for (int i = 0; i < 160; ++i) {
    uint64_t t = Issue();
    place[t] = Place(order, true, kSeedA, t);
  }
  QueueOrder::Known known = order.Export();
  ASSERT_EQ(known.spans.size(), 2u);
  EXPECT_NE(known.seed_chunks[0], 0u);

  QueueOrder successor;
  successor.Adopt(known);
  LocalRoomStore empty;  // nothing recorded: as if the store lost it
  for (const auto& [t, p] : place) {
    EXPECT_EQ(Place(successor, true, kSeedB, t, &empty), p) << "ticket " << t << " moved";
  }
  EXPECT_TRUE(successor.ShuffledAt(65));

  QueueOrder fifo_only;
  LocalRoomStore other;
  Place(fifo_only, false, kSeedA, 1, &other);
  fifo_only.Adopt(known);  // known already: kept
  EXPECT_EQ(fifo_only.Export().spans.size(), 1u);
}

// fifo → random → fifo → random, each mid-block, with a key rotation and a
// restart (state file) in between: nobody's place changes, and the places
// of every complete block are that block's numbers, each once.
TEST_F(QueueOrderTest, SeveralSwitchesRotationAndRestartKeepEveryPlace) {
  auto order = std::make_unique<QueueOrder>();
  std::map<uint64_t, uint64_t> place;
  bool shuffled = false;
  std::string seed = kSeedA;
  auto issue = [&](int n) {
    for (int i = 0; i < n; ++i) {
      uint64_t t = Issue();
      place[t] = Place(*order, shuffled, seed, t);
    }
  };
  auto check = [&](const char* when) {
    for (const auto& [t, p] : place) {
      EXPECT_EQ(Place(*order, shuffled, seed, t), p) << "ticket " << t << " moved " << when;
    }
  };
  issue(10);
  shuffled = true;  // random from 65
  check("after fifo -> random");
  issue(100);        // 11..110
  shuffled = false;  // fifo from 129
  check("after random -> fifo");
  issue(30);      // 111..140
  seed = kSeedB;  // key rotation: the new key first, its derived seed proposed
  check("after the key rotation");
  shuffled = true;  // random from 193
  issue(120);       // 141..260
  check("after fifo -> random again");
  // A restart: the state file carries the marks; a new process proposes the
  // rotated key's seed and has the method in force now.
  LocalRoomStore::Persisted saved = store_->Export();
  store_ = std::make_unique<LocalRoomStore>();
  store_->Import(saved);
  order = std::make_unique<QueueOrder>();
  check("after a restart");
  issue(60);  // 261..320
  check("at the end");
  for (uint64_t t = 1; t <= 64; ++t) EXPECT_EQ(place[t], t);
  for (uint64_t t = 65; t <= 128; ++t) EXPECT_EQ(place[t], ShuffledNumber(t, kSeedA));
  for (uint64_t t = 129; t <= 192; ++t) EXPECT_EQ(place[t], t);
  for (uint64_t t = 193; t <= 320; ++t) EXPECT_EQ(place[t], ShuffledNumber(t, kSeedA));
  std::set<uint64_t> places;
  for (const auto& [t, p] : place) {
    if (t <= 256) places.insert(p);
  }
  EXPECT_EQ(places.size(), 256u);
  EXPECT_EQ(*places.begin(), 1u);
  EXPECT_EQ(*places.rbegin(), 256u);
}

// Two processes on one store (or a process and its successor) agree, even
// when the second proposes another seed and another method: the first
// recorded wins, and a change one of them records is read by the other
// within kOrderProbeMillis.
TEST_F(QueueOrderTest, InstancesAgreeOnTheRecordedOrder) {
  QueueOrder a, b;
  for (int i = 0; i < 20; ++i) Issue();
  EXPECT_EQ(Place(a, true, kSeedA, 5), ShuffledNumber(5, kSeedA));
  EXPECT_EQ(Place(b, true, kSeedB, 5), ShuffledNumber(5, kSeedA)) << "b uses the recorded seed";
  // a sees a switch to fifo first (from ticket 65); b has not yet.
  EXPECT_EQ(Place(a, false, kSeedA, 5), ShuffledNumber(5, kSeedA));
  for (int i = 0; i < 70; ++i) Issue();  // 21..90
  EXPECT_EQ(Place(a, false, kSeedA, 80), 80u);
  now_ += kOrderProbeMillis;
  EXPECT_EQ(Place(b, true, kSeedB, 80), 80u) << "b read a's change";
  EXPECT_EQ(Place(b, true, kSeedB, 5), ShuffledNumber(5, kSeedA));
}

// OrderOfBlock keeps the last block's order only while the history does not
// change: b's order of block 1 follows a's switch once b reads it, and
// PlaceOf (which reads the kept order) agrees with it at every step.
TEST_F(QueueOrderTest, KeptBlockOrderFollowsTheHistory) {
  QueueOrder a, b;
  for (int i = 0; i < 20; ++i) Issue();
  auto order_of = [&](QueueOrder& o, uint64_t block) {
    return o.OrderOfBlock(*store_, caller_, true, kSeedB, block, now_);
  };
  // Every number of the order holds the ticket whose place it is.
  auto expect_places = [&](const BlockOrder& o, uint64_t block, const char* when) {
    ASSERT_TRUE(o.known) << when;
    EXPECT_EQ(o.block, block);
    for (uint64_t i = 0; i < kShuffleBlock; ++i) {
      uint64_t ticket = block * kShuffleBlock + o.ticket_at[i] + 1;
      EXPECT_EQ(Place(b, true, kSeedB, ticket), block * kShuffleBlock + i + 1) << when;
    }
  };
  EXPECT_EQ(Place(a, true, kSeedA, 5), ShuffledNumber(5, kSeedA));  // a records seed A
  BlockOrder first = order_of(b, 0);
  expect_places(first, 0, "block 0");
  for (uint64_t t = 1; t <= kShuffleBlock; ++t) {
    EXPECT_EQ(Place(b, true, kSeedB, t), ShuffledNumber(t, kSeedA)) << "the recorded seed";
  }
  BlockOrder again = order_of(b, 0);
  EXPECT_EQ(again.ticket_at, first.ticket_at);
  EXPECT_EQ(Place(a, false, kSeedA, 5), ShuffledNumber(5, kSeedA));  // a: fifo from 65
  for (int i = 0; i < 70; ++i) Issue();                              // 21..90
  expect_places(order_of(b, 1), 1, "before b reads a's change");
  now_ += kOrderProbeMillis;
  BlockOrder read = order_of(b, 1);
  expect_places(read, 1, "after b read a's change");
  for (uint64_t i = 0; i < kShuffleBlock; ++i) {
    EXPECT_EQ(read.ticket_at[i], i) << "block 1 is fifo";
  }
  EXPECT_EQ(order_of(b, 0).ticket_at, first.ticket_at) << "block 0 stays shuffled";
}

// A room that has only ever been fifo keeps its places (the ticket).
TEST_F(QueueOrderTest, FifoRoomPlacesAreTickets) {
  QueueOrder order;
  for (int i = 0; i < 5; ++i) {
    uint64_t t = Issue();
    EXPECT_EQ(Place(order, false, kSeedA, t), t);
  }
}

}  // namespace
}  // namespace tidegate::queue
