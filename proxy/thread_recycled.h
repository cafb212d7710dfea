// Memory of a per-request object kept for the thread's next one of the same
// type: a class deriving from ThreadRecycled<Self> is allocated by `new`
// and freed by `delete` as usual, but a freed object's block is kept (up to
// kMaxKept blocks per type and thread, as many as requests in flight on a
// worker at once: a stream's filters live until its exchange ends, so with
// several connections the next request's `new` comes before the previous
// one's `delete`) and handed to the next `new` of that type on the same
// thread, so an object made and freed once per request (a filter of a
// stream, proxy/filter.h) costs no malloc and no free. The kept blocks form
// a list threaded through the blocks themselves (the first word of a free
// block points to the next one): no memory besides them.
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
  // Most blocks kept per type and thread; more are freed as usual.
  static constexpr std::size_t kMaxKept = 64;

  static void* operator new(std::size_t size) {
    static_assert(alignof(Self) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__,
                  "an over-aligned type needs the aligned operator new");
    if (slot_gone_) return ::operator new(size);
    Slot& slot = ThreadSlot();
    if (size == sizeof(Self) && slot.head != nullptr) {
      void* block = slot.head;
      slot.head = *static_cast<void**>(block);
      --slot.count;
      return block;
    }
    return ::operator new(size);
  }

  static void operator delete(void* block, std::size_t size) {
    if (slot_gone_) {
      ::operator delete(block);
      return;
    }
    Slot& slot = ThreadSlot();
    if (size == sizeof(Self) && slot.count < kMaxKept) {
      *static_cast<void**>(block) = slot.head;  // the object is gone: its first word is free
      slot.head = block;
      ++slot.count;
      return;
    }
    ::operator delete(block);
  }

 private:
  static_assert(sizeof(void*) <= alignof(std::max_align_t), "a block holds a pointer");
  struct Slot {
    void* head = nullptr;  // the kept blocks, most recently freed first
    std::size_t count = 0;
    ~Slot() {
      while (head != nullptr) {
        void* next = *static_cast<void**>(head);
        ::operator delete(head);
        head = next;
      }
      slot_gone_ = true;
    }
  };
  // Set when the thread's Slot is destroyed. A trivially destructible
  // thread_local, so reading it during the thread's teardown is defined
  // (the Slot itself must not be touched once destroyed).
  static thread_local bool slot_gone_;
  static Slot& ThreadSlot() {
    thread_local Slot slot;
    return slot;
  }
};

template <typename Self>
thread_local bool ThreadRecycled<Self>::slot_gone_ = false;

}  // namespace tidegate::proxy
