#include "proxy/builtin_routes.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace tidegate::proxy {
namespace {

class RecordingCallbacks : public FilterCallbacks {
 public:
  void SendLocalReply(int s, HeaderList h, std::string b, std::string_view) override {
    status = s;
    headers = std::move(h);
    body = std::move(b);
  }
  void ContinueRequest() override {}
  const StreamInfo& stream_info() const override { return info; }

  int status = 0;
  HeaderList headers;
  std::string body;
  StreamInfo info;
};

BuiltinRoutesFactory MakeFactory(const HealthBoard* health = nullptr) {
  BuiltinRoutesConfig config;
  config.health = health;
  config.workers = 3;
  config.version = "9.9.9";
  config.started = std::chrono::steady_clock::now() - std::chrono::seconds(42);
  config.config_files = {"/etc/tidegate/a.toml"};
  return BuiltinRoutesFactory(std::move(config));
}

FilterStatus RunFilter(const BuiltinRoutesFactory& factory, RecordingCallbacks& callbacks,
                       std::string target) {
  RequestHead head;
  head.method = "GET";
  head.target = std::move(target);
  auto filter = factory.CreateFilter(callbacks);
  return filter->OnRequestHeaders(head);
}

TEST(BuiltinRoutesTest, OrdinaryPathsContinue) {
  BuiltinRoutesFactory factory = MakeFactory();
  for (const char* target : {"/", "/checkout", "/tidegate", "/.tidegatex", "/a/.tidegate"}) {
    RecordingCallbacks callbacks;
    EXPECT_EQ(RunFilter(factory, callbacks, target), FilterStatus::kContinue) << target;
    EXPECT_EQ(callbacks.status, 0) << target;
  }
}

TEST(BuiltinRoutesTest, HealthAnswersJson) {
  BuiltinRoutesFactory factory = MakeFactory();
  RecordingCallbacks callbacks;
  EXPECT_EQ(RunFilter(factory, callbacks, "/.tidegate/health"), FilterStatus::kStop);
  EXPECT_EQ(callbacks.status, 200);
  nlohmann::json body = nlohmann::json::parse(callbacks.body);
  EXPECT_EQ(body["status"], "ok");
  EXPECT_EQ(body["workers"], 3);
  EXPECT_EQ(body["version"], "9.9.9");
  EXPECT_GE(body["uptime_seconds"].get<int>(), 42);
  EXPECT_EQ(body["config_files"][0], "/etc/tidegate/a.toml");
}

TEST(BuiltinRoutesTest, HealthListsDegradedParts) {
  HealthBoard board;
  BuiltinRoutesFactory factory = MakeFactory(&board);
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

TEST(BuiltinRoutesTest, DisguisedPrefixesAreStillOurs) {
  BuiltinRoutesFactory factory = MakeFactory();
  for (const char* target : {"//.tidegate/health", "/%2Etidegate/health", "/x/../.tidegate/health",
                             "/.TIDEGATE/health", "/.tidegate;x/health", "/./.tidegate/health?a"}) {
    RecordingCallbacks callbacks;
    EXPECT_EQ(RunFilter(factory, callbacks, target), FilterStatus::kStop) << target;
    EXPECT_EQ(callbacks.status, 200) << target;
  }
}

TEST(BuiltinRoutesTest, OtherReservedPathsAre404) {
  BuiltinRoutesFactory factory = MakeFactory();
  for (const char* target : {"/.tidegate", "/.tidegate/", "/.tidegate/nope", "//.tidegate/x"}) {
    RecordingCallbacks callbacks;
    EXPECT_EQ(RunFilter(factory, callbacks, target), FilterStatus::kStop) << target;
    EXPECT_EQ(callbacks.status, 404) << target;
  }
}

}  // namespace
}  // namespace tidegate::proxy
