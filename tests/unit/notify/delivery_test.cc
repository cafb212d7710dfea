// notify/delivery.h: the outbox record, the retry schedule, redaction.
#include "notify/delivery.h"

#include <gtest/gtest.h>

namespace tidegate::notify {
namespace {

using std::chrono::milliseconds;

TEST(DeliveryTest, RetryDelayDoublesUpToTheMaximum) {
  milliseconds initial(5'000), max(600'000);
  EXPECT_EQ(RetryDelay(1, initial, max, 1.0), milliseconds(5'000));
  EXPECT_EQ(RetryDelay(2, initial, max, 1.0), milliseconds(10'000));
  EXPECT_EQ(RetryDelay(3, initial, max, 1.0), milliseconds(20'000));
  EXPECT_EQ(RetryDelay(8, initial, max, 1.0), milliseconds(600'000));
  EXPECT_EQ(RetryDelay(1000, initial, max, 1.0), milliseconds(600'000)) << "no overflow";
  EXPECT_EQ(RetryDelay(1, initial, max, 1.2), milliseconds(6'000));
}

TEST(DeliveryTest, DefaultScheduleKeepsTryingForMoreThanAnHour) {
  // With the defaults (5 s doubling to 10 min, give up after 24 h) an hour
  // of outage costs about a dozen attempts, then one every ten minutes.
  milliseconds elapsed(0);
  uint32_t attempts = 0;
  while (elapsed < std::chrono::hours(1)) {
    ++attempts;
    elapsed += RetryDelay(attempts, milliseconds(5'000), milliseconds(600'000), 1.0);
  }
  EXPECT_LT(attempts, 20u);
  EXPECT_GT(attempts, 8u);
}

TEST(DeliveryTest, JsonRoundTripAndRefusal) {
  Delivery d{"evt_1.abcd", "evt_1", "incident.opened", "https://x/y", "{}", 1, 2, 3, "HTTP 500"};
  std::optional<Delivery> back = DeliveryFromJson(DeliveryToJson(d));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->id, d.id);
  EXPECT_EQ(back->event_type, d.event_type);
  EXPECT_EQ(back->body, d.body);
  EXPECT_EQ(back->next_ms, 2);
  EXPECT_EQ(back->attempts, 3u);
  EXPECT_EQ(back->last_error, "HTTP 500");
  nlohmann::json broken = DeliveryToJson(d);
  broken["attempts"] = "three";
  EXPECT_FALSE(DeliveryFromJson(broken));
  EXPECT_FALSE(DeliveryFromJson(nlohmann::json::array()));
}

TEST(DeliveryTest, UrlsShownToViewersHideTheirPath) {
  EXPECT_EQ(RedactedUrl("https://hooks.example.com/services/T0/B1/secret"),
            "https://hooks.example.com/…");
  EXPECT_EQ(RedactedUrl("http://127.0.0.1:8089/"), "http://127.0.0.1:8089/");
  EXPECT_EQ(RedactedUrl("http://127.0.0.1:8089"), "http://127.0.0.1:8089");
  EXPECT_EQ(SubscriberKey("https://x/y").size(), 8u);
  EXPECT_NE(SubscriberKey("https://x/y"), SubscriberKey("https://x/z"));
}

}  // namespace
}  // namespace tidegate::notify
