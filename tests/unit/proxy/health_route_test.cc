#include "proxy/health_route.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace tidegate::proxy {
namespace {

class RecordingCallbacks : public FilterCallbacks {
 public:
  void AbortResponse() override {}
  void SendLocalReply(int s, HeaderList h, std::string b, Answerer a) override {
    answered_by = a;
    status = s;
    headers = std::move(h);
    body = std::move(b);
  }
  void ContinueRequest() override {}
  const StreamInfo& stream_info() const override { return info; }
  const WorkerContext& worker() const override { return context; }

  Answerer answered_by = Answerer::kCount;
  int status = 0;
  HeaderList headers;
  std::string body;
  StreamInfo info;
  WorkerContext context;
};

HealthRouteFactory MakeFactory(const HealthBoard* health = nullptr) {
  HealthRouteConfig config;
  config.health = health;
  config.workers = 3;
  config.version = "9.9.9";
  config.started = std::chrono::steady_clock::now() - std::chrono::seconds(42);
  return HealthRouteFactory(std::move(config));
}

FilterStatus RunFilter(const HealthRouteFactory& factory, RecordingCallbacks& callbacks,
                       std::string target) {
  RequestHead head;
  head.method = "GET";
  head.target = std::move(target);
  auto filter = factory.CreateFilter(callbacks);
  return filter->OnRequestHeaders(head);
}

TEST(HealthRouteTest, HealthAnswersJson) {
  HealthRouteFactory factory = MakeFactory();
  RecordingCallbacks callbacks;
  EXPECT_EQ(RunFilter(factory, callbacks, "/.tidegate/health"), FilterStatus::kStop);
  EXPECT_EQ(callbacks.status, 200);
  EXPECT_EQ(callbacks.answered_by, Answerer::kBuiltin);
  EXPECT_EQ(*callbacks.headers.Find("Cache-Control"), "no-store");
  nlohmann::json body = nlohmann::json::parse(callbacks.body);
  EXPECT_EQ(body["status"], "ok");
  EXPECT_EQ(body["workers"], 3);
  EXPECT_EQ(body["version"], "9.9.9");
  EXPECT_GE(body["uptime_seconds"].get<int>(), 42);
  // Public route: no file paths (operators read them in GET /v1/state).
  EXPECT_FALSE(body.contains("config_files"));
}

// The route is public: details name no address of the host (audit 8 F6).
TEST(HealthRouteTest, DetailsNameNoAddress) {
  EXPECT_EQ(WithoutAddresses("redis 127.0.0.1:42921: connect: Connection refused"),
            "redis (address hidden): connect: Connection refused");
  EXPECT_EQ(WithoutAddresses("sentinels [::1]:26379, 10.0.0.3:26379 gave no primary"),
            "sentinels (address hidden), (address hidden) gave no primary");
  EXPECT_EQ(WithoutAddresses("redis unix:/run/redis/redis.sock: connection lost; x"),
            "redis (address hidden): connection lost; x");
  EXPECT_EQ(WithoutAddresses("shared store failing; on_failure = local"),
            "shared store failing; on_failure = local");
  HealthBoard board;
  board.Set("state_store", "redis: redis 10.1.2.3:6379: connect: Connection refused");
  HealthRouteFactory factory = MakeFactory(&board);
  std::string body = factory.HealthJson(std::chrono::steady_clock::now());
  EXPECT_EQ(body.find("10.1.2.3"), std::string::npos) << body;
  EXPECT_NE(body.find("Connection refused"), std::string::npos) << body;
}

TEST(HealthRouteTest, HealthListsDegradedParts) {
  HealthBoard board;
  HealthRouteFactory factory = MakeFactory(&board);
  RecordingCallbacks fine;
  RunFilter(factory, fine, "/.tidegate/health");
  nlohmann::json body = nlohmann::json::parse(fine.body);
  EXPECT_EQ(body["status"], "ok");
  EXPECT_TRUE(body["degraded"].empty());

  board.Set("state_store", "redis: connection refused");
  bool room_down = true;
  board.SetProbe([&](std::vector<DegradedPart>* parts) {
    if (room_down) parts->push_back({"room:shop", "on_failure = local"});
  });
  RecordingCallbacks degraded;
  RunFilter(factory, degraded, "/.tidegate/health");
  EXPECT_EQ(degraded.status, 200) << "alive and serving in its failure mode";
  body = nlohmann::json::parse(degraded.body);
  EXPECT_EQ(body["status"], "degraded");
  ASSERT_EQ(body["degraded"].size(), 2u);
  EXPECT_EQ(body["degraded"][0]["part"], "state_store");
  EXPECT_EQ(body["degraded"][0]["detail"], "redis: connection refused");
  EXPECT_EQ(body["degraded"][1]["part"], "room:shop");

  board.Clear("state_store");
  room_down = false;
  RecordingCallbacks healed;
  RunFilter(factory, healed, "/.tidegate/health");
  EXPECT_EQ(nlohmann::json::parse(healed.body)["status"], "ok");
}

}  // namespace
}  // namespace tidegate::proxy
