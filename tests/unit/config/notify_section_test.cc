// [notify] and [[notify.webhooks]] (config/notify_section.cc).
#include <gtest/gtest.h>

#include "config/loader.h"
#include "tests/unit/config/test_helpers.h"

namespace tidegate::config {
namespace {

using testing::AllErrors;
using testing::HasError;
using testing::LoadWithMinimal;
using testing::TestData;

TEST(NotifySectionTest, AbsentMeansNoSubscribersAndSafeDefaults) {
  LoadResult result = LoadWithMinimal("");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  const NotifyConfig& n = result.config->notify;
  EXPECT_TRUE(n.webhooks.empty());
  EXPECT_EQ(n.timeout, Duration(10'000));
  EXPECT_EQ(n.retry_initial, Duration(5'000));
  EXPECT_EQ(n.retry_max, Duration(600'000));
  EXPECT_EQ(n.give_up_after, Duration(86'400'000));
}

TEST(NotifySectionTest, WebhooksAreReadWithTheirSecretsAndEvents) {
  LoadResult result = LoadWithMinimal(R"(
[notify]
timeout = "3s"
retry_initial = "1s"
retry_max = "2m"
give_up_after = "2h"

[[notify.webhooks]]
url = "https://hooks.example.com/tidegate/T0123"
secret_file = "webhooks/receiver.secret"
events = ["incident.opened", "incident.resolved", "room.mode"]

[[notify.webhooks]]
url = "http://127.0.0.1:8089/events"
secret_file = "webhooks/receiver.secret"
)");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  const NotifyConfig& n = result.config->notify;
  EXPECT_EQ(n.timeout, Duration(3'000));
  EXPECT_EQ(n.retry_initial, Duration(1'000));
  EXPECT_EQ(n.retry_max, Duration(120'000));
  EXPECT_EQ(n.give_up_after, Duration(7'200'000));
  ASSERT_EQ(n.webhooks.size(), 2u);
  EXPECT_EQ(n.webhooks[0].url, "https://hooks.example.com/tidegate/T0123");
  EXPECT_EQ(n.webhooks[0].secret_file, (TestData() / "webhooks/receiver.secret").string());
  EXPECT_EQ(n.webhooks[0].secret, "whsec-test-0123456789abcdef") << "trailing newline stripped";
  EXPECT_EQ(n.webhooks[0].events,
            (std::vector<std::string>{"incident.opened", "incident.resolved", "room.mode"}));
  EXPECT_TRUE(n.webhooks[1].events.empty()) << "no events = every event";
}

TEST(NotifySectionTest, BadValuesNameTheKey) {
  auto hook = [](const std::string& body) {
    return LoadWithMinimal("[[notify.webhooks]]\n" + body);
  };
  EXPECT_TRUE(HasError(hook("secret_file = \"webhooks/receiver.secret\"\n"),
                       "notify.webhooks[0].url", "is required"));
  EXPECT_TRUE(HasError(hook("url = \"ftp://x/y\"\nsecret_file = \"webhooks/receiver.secret\"\n"),
                       "notify.webhooks[0].url", "is not an http:// or https:// URL"));
  EXPECT_TRUE(
      HasError(hook("url = \"https://u:p@x/y\"\nsecret_file = \"webhooks/receiver.secret\"\n"),
               "notify.webhooks[0].url", "carries credentials"));
  EXPECT_TRUE(
      HasError(hook("url = \"https://x/y\"\n"), "notify.webhooks[0].secret_file", "is required"));
  EXPECT_TRUE(HasError(hook("url = \"https://x/y\"\nsecret_file = \"webhooks/short.secret\"\n"),
                       "notify.webhooks[0].secret_file", "needs at least 16"));
  EXPECT_TRUE(HasError(hook("url = \"https://x/y\"\nsecret_file = \"webhooks/missing\"\n"),
                       "notify.webhooks[0].secret_file", "missing"));
  EXPECT_TRUE(HasError(hook("url = \"https://x/y\"\nsecret_file = \"webhooks/receiver.secret\"\n"
                            "events = [\"incident.open\"]\n"),
                       "notify.webhooks[0].events[0]", "did you mean \"incident.opened\""));
  EXPECT_TRUE(HasError(hook("url = \"https://x/y\"\nsecret_file = \"webhooks/receiver.secret\"\n"
                            "secret = \"inline\"\n"),
                       "notify.webhooks[0].secret", "unknown key"));
  EXPECT_TRUE(HasError(LoadWithMinimal("[notify]\ngive_up_after = \"10m\"\n"),
                       "notify.give_up_after", "out of range"));
  EXPECT_TRUE(
      HasError(LoadWithMinimal("[notify]\nretries = 3\n"), "notify.retries", "unknown key"));
}

TEST(NotifySectionTest, TwoWebhooksOnOneUrlAreRefused) {
  LoadResult result = LoadWithMinimal(R"(
[[notify.webhooks]]
url = "https://x/y"
secret_file = "webhooks/receiver.secret"
[[notify.webhooks]]
url = "https://x/y"
secret_file = "webhooks/receiver.secret"
)");
  EXPECT_TRUE(HasError(result, "notify.webhooks[1].url", "already the url of another webhook"))
      << AllErrors(result);
}

}  // namespace
}  // namespace tidegate::config
