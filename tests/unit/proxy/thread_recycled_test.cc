#include "proxy/thread_recycled.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>

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
  third.reset();  // the slot is full: freed for real (a leak checker sees none)
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

}  // namespace
}  // namespace tidegate::proxy
