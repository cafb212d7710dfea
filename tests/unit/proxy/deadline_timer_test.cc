#include "proxy/deadline_timer.h"

#include <event2/event.h>
#include <gtest/gtest.h>

#include <chrono>

#include "proxy/libevent_handles.h"

namespace tidegate::proxy {
namespace {

using std::chrono::milliseconds;

class DeadlineTimerTest : public ::testing::Test {
 protected:
  static void Count(void* arg) { ++*static_cast<int*>(arg); }

  // Runs the loop until `timer` fired or `limit` passed (bounded wait).
  void RunFor(milliseconds limit) {
    EventPtr stop(evtimer_new(base_.get(), &DeadlineTimerTest::Stop, base_.get()));
    timeval tv{static_cast<time_t>(limit.count() / 1000),
               static_cast<suseconds_t>((limit.count() % 1000) * 1000)};
    evtimer_add(stop.get(), &tv);
    while (fired_ == 0 && evtimer_pending(stop.get(), nullptr)) {
      event_base_loop(base_.get(), EVLOOP_ONCE);
    }
  }
  static void Stop(evutil_socket_t, short, void* base) {
    event_base_loopbreak(static_cast<event_base*>(base));
  }

  EventBasePtr base_{event_base_new()};
  int fired_ = 0;
  DeadlineTimer timer_{base_.get(), &DeadlineTimerTest::Count, &fired_};
};

TEST_F(DeadlineTimerTest, FiresOnceAfterTheDeadline) {
  timer_.Arm(milliseconds(20));
  EXPECT_TRUE(timer_.armed());
  RunFor(milliseconds(5000));
  EXPECT_EQ(fired_, 1);
  EXPECT_FALSE(timer_.armed());
}

TEST_F(DeadlineTimerTest, DisarmedDeadlineNeverFires) {
  timer_.Arm(milliseconds(20));
  timer_.Disarm();
  RunFor(milliseconds(300));  // the libevent timer fires and finds nothing to do
  EXPECT_EQ(fired_, 0);
}

TEST_F(DeadlineTimerTest, LaterDeadlineReplacesAnEarlierOne) {
  timer_.Arm(milliseconds(20));
  timer_.Arm(milliseconds(60000));  // the pending 20 ms timer must not end it
  RunFor(milliseconds(300));
  EXPECT_EQ(fired_, 0);
  EXPECT_TRUE(timer_.armed());
}

TEST_F(DeadlineTimerTest, EarlierDeadlineReplacesALaterOne) {
  timer_.Arm(milliseconds(60000));
  timer_.Arm(milliseconds(20));
  RunFor(milliseconds(5000));
  EXPECT_EQ(fired_, 1);
}

TEST_F(DeadlineTimerTest, FiresAgainWhenReArmedAfterFiring) {
  timer_.Arm(milliseconds(10));
  RunFor(milliseconds(5000));
  ASSERT_EQ(fired_, 1);
  timer_.Arm(milliseconds(10));
  fired_ = 0;
  RunFor(milliseconds(5000));
  EXPECT_EQ(fired_, 1);
}

// The point of the class: a keep-alive exchange (header deadline, cleared at
// the head, idle deadline after the response) costs no libevent call once a
// timer is pending. evtimer_add/evtimer_del per step made 2 calls per cycle.
TEST_F(DeadlineTimerTest, KeepAliveCycleAddsTheLibeventTimerOnce) {
  for (int i = 0; i < 1000; ++i) {
    timer_.Arm(milliseconds(10000));  // header_timeout
    timer_.Disarm();                  // head complete
    timer_.Arm(milliseconds(75000));  // keepalive_timeout
  }
  EXPECT_EQ(timer_.libevent_adds(), 1u);
  EXPECT_EQ(fired_, 0);
}

}  // namespace
}  // namespace tidegate::proxy
