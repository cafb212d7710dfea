#include "proxy/published.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace tidegate::proxy {
namespace {

TEST(PublishedTest, ReadersSeeEachPublication) {
  Published<int> value(std::make_shared<const int>(1));
  EXPECT_EQ(value.Get(), 1);
  value.Publish(std::make_shared<const int>(2));
  EXPECT_EQ(value.Get(), 2);
  EXPECT_EQ(*value.Load(), 2);
}

TEST(PublishedTest, TwoObjectsOfOneTypeDoNotShareTheThreadCache) {
  Published<int> a(std::make_shared<const int>(10));
  Published<int> b(std::make_shared<const int>(20));
  EXPECT_EQ(a.Get(), 10);
  EXPECT_EQ(b.Get(), 20);
  EXPECT_EQ(a.Get(), 10);
}

TEST(PublishedTest, ReaderThreadsNeverSeeAnOlderValueAfterANewerOne) {
  Published<int> value(std::make_shared<const int>(0));
  std::atomic<bool> stop{false};
  std::atomic<int> regressions{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i) {
    readers.emplace_back([&] {
      int last = 0;
      while (!stop.load()) {
        int seen = value.Get();
        if (seen < last) regressions.fetch_add(1);
        last = seen;
      }
    });
  }
  for (int i = 1; i <= 20000; ++i) value.Publish(std::make_shared<const int>(i));
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(regressions.load(), 0);
  EXPECT_EQ(value.Get(), 20000);
}

}  // namespace
}  // namespace tidegate::proxy
