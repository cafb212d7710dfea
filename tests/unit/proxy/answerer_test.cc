// proxy/answerer.h and the per-answerer counters of proxy/worker_stats.h.
#include "proxy/answerer.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "proxy/worker_stats.h"

namespace tidegate::proxy {
namespace {

TEST(AnswererTest, EveryValueHasItsOwnPublicName) {
  std::set<std::string> names;
  for (size_t i = 0; i < kAnswererCount; ++i) {
    std::string_view name = AnswererName(static_cast<Answerer>(i));
    EXPECT_NE(name, "unknown");
    EXPECT_FALSE(name.empty());
    names.insert(std::string(name));
  }
  EXPECT_EQ(names.size(), kAnswererCount);
  // The access log's and /metrics' values (public: docs/admin-api.md).
  EXPECT_EQ(AnswererName(Answerer::kOrigin), "origin");
  EXPECT_EQ(AnswererName(Answerer::kProxy), "proxy");
  EXPECT_EQ(AnswererName(Answerer::kBuiltin), "builtin");
  EXPECT_EQ(AnswererName(Answerer::kMaintenance), "maintenance");
  EXPECT_EQ(AnswererName(Answerer::kQueue), "queue");
  EXPECT_EQ(AnswererName(Answerer::kBanner), "banner");
}

TEST(AnswererTest, EachAnswererCountsOnItsOwn) {
  WorkerStats stats;
  stats.answered_by(Answerer::kBanner).Inc();
  stats.answered_by(Answerer::kBanner).Inc();
  stats.answered_by(Answerer::kOrigin).Inc();
  EXPECT_EQ(stats.answered_by(Answerer::kBanner).value(), 2);
  EXPECT_EQ(stats.answered_by(Answerer::kBuiltin).value(), 0) << "the banner is not builtin";
  EXPECT_EQ(stats.answered_by(Answerer::kOrigin).value(), 1);
  const WorkerStats& read = stats;
  EXPECT_EQ(read.answered[static_cast<size_t>(Answerer::kBanner)].value(), 2);
}

}  // namespace
}  // namespace tidegate::proxy
