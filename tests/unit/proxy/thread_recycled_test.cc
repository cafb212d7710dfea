#include "proxy/thread_recycled.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <thread>
#include <vector>

namespace tidegate::proxy {
namespace {

struct Base {
  virtual ~Base() = default;
};

struct Recycled : Base, ThreadRecycled<Recycled> {
  char payload[40] = {};
};

// A larger type derived from a recycled one: its blocks are not the size
// the slot holds, so they go to ::operator new/delete.
struct Larger : Recycled {
  char more[200] = {};
};

// Freed, then made again on the same thread: the same block, no malloc.
TEST(ThreadRecycledTest, TheNextObjectOfTheThreadReusesTheFreedBlock) {
  std::unique_ptr<Base> first = std::make_unique<Recycled>();
  void* block = first.get();
  first.reset();  // through the base: the dynamic type's operator delete
  // A plain allocation of the same size in between: had the block gone
  // back to malloc, this one would get it (malloc reuses the last freed
  // block of a size first).
  void* other = ::operator new(sizeof(Recycled));
  std::unique_ptr<Base> second = std::make_unique<Recycled>();
  EXPECT_EQ(second.get(), block);
  EXPECT_NE(other, block);
  ::operator delete(other);
  // Two alive at once: the second one is a new block.
  std::unique_ptr<Base> third = std::make_unique<Recycled>();
  EXPECT_NE(third.get(), second.get());
  second.reset();
  third.reset();  // both kept (freed when the thread ends: a leak checker sees none)
}

TEST(ThreadRecycledTest, ALargerDerivedTypeIsNeverPutInTheSlot) {
  std::unique_ptr<Base> small = std::make_unique<Recycled>();
  void* block = small.get();
  small.reset();  // the slot holds a Recycled-sized block
  std::unique_ptr<Base> large = std::make_unique<Larger>();
  static_cast<Larger*>(large.get())->more[199] = 'x';  // its whole size is its own
  large.reset();
  std::unique_ptr<Base> again = std::make_unique<Recycled>();
  EXPECT_EQ(again.get(), block) << "the slot kept its block through the larger type's life";
}

// Each thread has its own slot: a block freed on one thread is not handed
// out on another, and the thread's kept block is freed when it ends.
TEST(ThreadRecycledTest, EachThreadKeepsItsOwnBlock) {
  std::unique_ptr<Base> here = std::make_unique<Recycled>();
  void* block = here.get();
  here.reset();
  void* there = nullptr;
  std::thread([&there] {
    std::unique_ptr<Base> made = std::make_unique<Recycled>();
    there = made.get();
  }).join();
  EXPECT_NE(there, block);
  std::unique_ptr<Base> again = std::make_unique<Recycled>();
  EXPECT_EQ(again.get(), block);
}

// Several requests in flight (a stream's filter lives until its exchange
// ends, and the next request's filter is made before the previous one is
// freed): once as many blocks were made as are alive at once, every `new`
// gets one of them back, none comes from malloc. Plain allocations of the
// same size soak up whatever went back to malloc (which would hand it out
// again first), so a block freed for real is not mistaken for a kept one.
// Past kMaxKept, blocks are freed.
TEST(ThreadRecycledTest, SeveralInFlightReuseTheirBlocks) {
  constexpr size_t kInFlight = 16;
  std::vector<void*> soaked;
  auto soak = [&soaked] {
    for (int i = 0; i < 2 * static_cast<int>(kInFlight); ++i) {
      soaked.push_back(::operator new(sizeof(Recycled)));
    }
  };
  std::set<void*> blocks;
  std::vector<std::unique_ptr<Base>> alive;
  for (size_t i = 0; i < kInFlight + 1; ++i) alive.push_back(std::make_unique<Recycled>());
  for (const auto& p : alive) blocks.insert(p.get());
  alive.clear();
  soak();
  for (size_t i = 0; i < kInFlight; ++i) {
    alive.push_back(std::make_unique<Recycled>());
    EXPECT_EQ(blocks.count(alive.back().get()), 1u) << "exchange " << i << ": a new block";
  }
  for (int round = 0; round < 50; ++round) {
    alive.push_back(std::make_unique<Recycled>());  // the next request begins
    EXPECT_EQ(blocks.count(alive.back().get()), 1u) << "round " << round << ": a new block";
    alive.erase(alive.begin());  // then the oldest exchange ends
    soak();
  }
  alive.clear();
  for (void* p : soaked) ::operator delete(p);
  std::vector<std::unique_ptr<Base>> many;
  for (size_t i = 0; i < ThreadRecycled<Recycled>::kMaxKept + 10; ++i) {
    many.push_back(std::make_unique<Recycled>());
  }
  many.clear();  // kMaxKept kept, the rest freed
  std::set<void*> seen;
  for (size_t i = 0; i < ThreadRecycled<Recycled>::kMaxKept; ++i) {
    many.push_back(std::make_unique<Recycled>());
    EXPECT_TRUE(seen.insert(many.back().get()).second) << "a block handed out twice";
  }
}

}  // namespace
}  // namespace tidegate::proxy
