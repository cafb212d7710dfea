#include "admin/worker_stats_metrics.h"

#include <gtest/gtest.h>

namespace tidegate::admin {
namespace {

TEST(WorkerStatsMetricsTest, SumsEveryWorker) {
  proxy::WorkerStats a, b;
  a.responses_by_class[2].Add(10);
  b.responses_by_class[2].Add(5);
  b.responses_by_class[5].Inc();
  a.answered_by(proxy::Answerer::kOrigin).Add(9);
  b.answered_by(proxy::Answerer::kBuiltin).Add(2);
  b.answered_by(proxy::Answerer::kBanner).Add(4);
  a.origin_connect_refused.Inc();
  b.origin_connect_refused.Inc();
  b.origin_own_cookie.Add(2);
  a.connections_active.Set(3);
  b.connections_active.Set(4);
  a.pool_idle.Set(2);
  b.client_header_timeouts.Inc();
  a.connections_compacted.Add(6);
  b.connections_compacted.Add(1);
  a.connections_lingered.Add(2);
  b.connections_lingered.Inc();
  MetricsSnapshot m;
  AddWorkerStats(a, &m);
  AddWorkerStats(b, &m);
  EXPECT_EQ(m.responses_by_class[2], 15u);
  EXPECT_EQ(m.responses_by_class[5], 1u);
  EXPECT_EQ(m.answered_by["origin"], 9u);
  EXPECT_EQ(m.answered_by["builtin"], 2u);
  EXPECT_EQ(m.answered_by["banner"], 4u) << "the banner's stylesheet is not builtin";
  EXPECT_EQ(m.origin_errors_by_kind["connect_refused"], 2u);
  EXPECT_EQ(m.origin_errors_by_kind["own_cookie"], 2u);
  EXPECT_EQ(m.connections_active, 7);
  EXPECT_EQ(m.pool_idle_connections, 2);
  EXPECT_EQ(m.client_errors_by_kind["header_timeout"], 1u);
  EXPECT_EQ(m.connections_compacted_total, 7u);
  EXPECT_EQ(m.connections_lingered_total, 3u);
  std::string text = RenderPrometheus(m);
  EXPECT_NE(text.find("tidegate_connections_compacted_total 7\n"), std::string::npos);
  EXPECT_NE(text.find("tidegate_connections_lingered_total 3\n"), std::string::npos);
  EXPECT_NE(text.find("tidegate_responses_total{class=\"2xx\"} 15\n"), std::string::npos);
  EXPECT_NE(text.find("tidegate_client_errors_total{kind=\"header_timeout\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("tidegate_responses_by_answerer_total{answered_by=\"banner\"} 4\n"),
            std::string::npos);
  EXPECT_NE(text.find("tidegate_origin_errors_total{kind=\"own_cookie\"} 2\n"), std::string::npos);
}

TEST(WorkerStatsMetricsTest, EveryAnswererIsRenderedEvenAtZero) {
  MetricsSnapshot m;
  AddWorkerStats(proxy::WorkerStats{}, &m);
  std::string text = RenderPrometheus(MetricsSnapshot{});
  for (size_t i = 0; i < proxy::kAnswererCount; ++i) {
    std::string name(proxy::AnswererName(static_cast<proxy::Answerer>(i)));
    EXPECT_EQ(m.answered_by.count(name), 1u) << name;
    EXPECT_NE(text.find("tidegate_responses_by_answerer_total{answered_by=\"" + name + "\"} 0\n"),
              std::string::npos)
        << name;
  }
}

TEST(WorkerStatsMetricsTest, LatencyHistogramsUseTheMetricsBucketsAndSumWorkers) {
  ASSERT_EQ(proxy::LatencyHistogram::kBuckets, DefaultLatencyBuckets().size() + 1);
  for (size_t i = 0; i < DefaultLatencyBuckets().size(); ++i) {
    EXPECT_DOUBLE_EQ(DefaultLatencyBuckets()[i], proxy::LatencyHistogram::kUpperBoundsUs[i] / 1e6);
  }
  proxy::WorkerStats a, b;
  a.request_duration.Record(800);         // ≤ 1 ms
  a.request_duration.Record(1'000);       // ≤ 1 ms (bounds are inclusive)
  b.request_duration.Record(30'000);      // ≤ 50 ms
  b.request_duration.Record(60'000'000);  // +Inf
  b.origin_duration.Record(2'000);
  MetricsSnapshot m;
  AddWorkerStats(a, &m);
  AddWorkerStats(b, &m);
  EXPECT_EQ(m.request_duration.count, 4u);
  EXPECT_EQ(m.request_duration.bucket_counts[0], 2u);
  EXPECT_EQ(m.request_duration.bucket_counts[5], 1u);
  EXPECT_EQ(m.request_duration.bucket_counts.back(), 1u);
  EXPECT_NEAR(m.request_duration.sum, 60.0318, 1e-9);
  EXPECT_EQ(m.origin_duration.count, 1u);
  std::string text = RenderPrometheus(m);
  EXPECT_NE(text.find("tidegate_request_duration_seconds_bucket{le=\"0.05\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("tidegate_request_duration_seconds_count 4\n"), std::string::npos);
}

}  // namespace
}  // namespace tidegate::admin

namespace tidegate::admin {
namespace {

TEST(WorkerStatsMetricsSourceTest, SumsAtEachScrapeAndAddsExtras) {
  proxy::WorkerStats a, b;
  WorkerStatsMetricsSource source(
      [&] {
        return std::vector<const proxy::WorkerStats*>{&a, &b};
      },
      [](MetricsSnapshot* m) { m->config_reloads_total = 3; });
  a.connections_accepted.Add(2);
  b.connections_accepted.Add(5);
  MetricsSnapshot m = source.Collect();
  EXPECT_EQ(m.connections_accepted_total, 7u);
  EXPECT_EQ(m.config_reloads_total, 3u);
  b.connections_accepted.Inc();  // a later scrape sees later values
  EXPECT_EQ(source.Collect().connections_accepted_total, 8u);
  // Empty histograms still render with every bucket.
  std::string text = RenderPrometheus(m);
  EXPECT_NE(text.find("tidegate_request_duration_seconds_bucket{le=\"0.001\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("tidegate_request_duration_seconds_bucket{le=\"+Inf\"} 0\n"),
            std::string::npos);
}

}  // namespace
}  // namespace tidegate::admin
