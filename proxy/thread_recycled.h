// Memory of a per-request object kept for the thread's next one of the same
// type: a class deriving from ThreadRecycled<Self> is allocated by `new`
// and freed by `delete` as usual, but a freed object's block is kept (one
// block per type and thread) and handed to the next `new` of that type on
// the same thread, so an object made and freed once per request (a filter
// of a stream, proxy/filter.h) costs no malloc and no free.
//
// Contract: `Self` must derive from ThreadRecycled<Self> (CRTP) and, when it
// is deleted through a base pointer, have a virtual destructor (the
// deleting destructor then calls this class's operator delete with the
// dynamic type's size). Any thread may allocate and free; a block freed on
// another thread than the one that made it goes to that thread's slot
// (blocks are plain ::operator new memory, valid on any thread). A
// thread's kept block is freed when the thread ends; a free after that
// (during the thread's own teardown) goes straight to ::operator delete.
#pragma once

#include <cstddef>
#include <new>

namespace tidegate::proxy {

template <typename Self>
class ThreadRecycled {
 public:
  static void* operator new(std::size_t size) {
    Slot& slot = ThreadSlot();
    if (size == sizeof(Self) && slot.block != nullptr) {
      void* block = slot.block;
      slot.block = nullptr;
      return block;
    }
    return ::operator new(size);
  }

  static void operator delete(void* block, std::size_t size) {
    Slot& slot = ThreadSlot();
    if (size == sizeof(Self) && slot.block == nullptr && slot.alive) {
      slot.block = block;
      return;
    }
    ::operator delete(block);
  }

 private:
  struct Slot {
    void* block = nullptr;
    bool alive = true;  // false once the thread's teardown freed the slot
    ~Slot() {
      ::operator delete(block);
      block = nullptr;
      alive = false;
    }
  };
  static Slot& ThreadSlot() {
    thread_local Slot slot;
    return slot;
  }
};

}  // namespace tidegate::proxy
