#include "admin/auth.h"

#include <gtest/gtest.h>

#include "tests/unit/admin/test_fixtures.h"

namespace tidegate::admin {
namespace {

using testing::kOperatorToken;
using testing::kViewerToken;
using testing::TestAdminConfig;

std::string Bearer(const std::string& token) { return "Bearer " + token; }

TEST(Sha256HexTest, KnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(TokenAuthenticatorTest, RightTokensGiveNameAndRole) {
  TokenAuthenticator auth(TestAdminConfig().tokens);
  AuthResult ops = auth.Check(Bearer(kOperatorToken));
  EXPECT_EQ(ops.status, AuthStatus::kOk);
  EXPECT_EQ(ops.token_name, "ops");
  EXPECT_EQ(ops.role, config::AdminRole::kOperator);
  AuthResult viewer =
      auth.Check("bearer  " + std::string(kViewerToken));  // scheme is case-insensitive
  EXPECT_EQ(viewer.status, AuthStatus::kOk);
  EXPECT_EQ(viewer.token_name, "watcher");
  EXPECT_EQ(viewer.role, config::AdminRole::kViewer);
}

TEST(TokenAuthenticatorTest, WrongMissingAndMalformed) {
  TokenAuthenticator auth(TestAdminConfig().tokens);
  EXPECT_EQ(auth.Check(std::nullopt).status, AuthStatus::kMissing);
  EXPECT_EQ(auth.Check(Bearer("not-the-token")).status, AuthStatus::kRefused);
  // The digest itself is not a token.
  EXPECT_EQ(auth.Check(Bearer(Sha256Hex(kOperatorToken))).status, AuthStatus::kRefused);
  // A prefix or an extension of a right token is refused.
  std::string ops = kOperatorToken;
  EXPECT_EQ(auth.Check(Bearer(ops.substr(0, ops.size() - 1))).status, AuthStatus::kRefused);
  EXPECT_EQ(auth.Check(Bearer(ops + "x")).status, AuthStatus::kRefused);
  EXPECT_EQ(auth.Check("Basic b3BzOnB3").status, AuthStatus::kMalformed);
  EXPECT_EQ(auth.Check("Bearer").status, AuthStatus::kMalformed);
  EXPECT_EQ(auth.Check("Bearer ").status, AuthStatus::kMalformed);
  EXPECT_EQ(auth.Check(ops).status, AuthStatus::kMalformed);
  EXPECT_EQ(auth.Check("Bearer " + ops + " extra").status, AuthStatus::kMalformed);
  EXPECT_EQ(auth.Check("Bearer " + std::string(5000, 'a')).status, AuthStatus::kMalformed);
}

TEST(TokenAuthenticatorTest, ComparesEveryTokenWhateverMatches) {
  config::AdminConfig admin = TestAdminConfig();
  admin.tokens.push_back({"third", Sha256Hex("third-token"), config::AdminRole::kViewer});
  TokenAuthenticator auth(admin.tokens);
  ASSERT_EQ(auth.token_count(), 3u);
  auth.Check(Bearer(kOperatorToken));  // first entry matches
  EXPECT_EQ(auth.last_comparisons(), 3u);
  auth.Check(Bearer("third-token"));  // last entry matches
  EXPECT_EQ(auth.last_comparisons(), 3u);
  auth.Check(Bearer("nothing"));
  EXPECT_EQ(auth.last_comparisons(), 3u);
}

TEST(TokenAuthenticatorTest, NoTokensConfiguredRefusesEverything) {
  TokenAuthenticator auth({});
  EXPECT_EQ(auth.Check(Bearer(kOperatorToken)).status, AuthStatus::kRefused);
}

TEST(TokenAuthenticatorTest, BadDigestsInConfigAreIgnored) {
  TokenAuthenticator auth({{"bad", "xyz", config::AdminRole::kOperator},
                           {"bad2", std::string(64, 'g'), config::AdminRole::kOperator}});
  EXPECT_EQ(auth.token_count(), 0u);
}

TEST(QueryCredentialsTest, RefusesTokenLikeParameters) {
  EXPECT_TRUE(QueryCarriesCredentials("token=abc"));
  EXPECT_TRUE(QueryCarriesCredentials("limit=5&access_token=abc"));
  EXPECT_TRUE(QueryCarriesCredentials("Authorization=x"));
  EXPECT_TRUE(QueryCarriesCredentials("API_KEY=x"));
  EXPECT_TRUE(QueryCarriesCredentials("token"));
  EXPECT_TRUE(QueryCarriesCredentials("q=Bearer%20abc"));
  EXPECT_TRUE(QueryCarriesCredentials("q=bearer+abc"));
  EXPECT_FALSE(QueryCarriesCredentials(""));
  EXPECT_FALSE(QueryCarriesCredentials("limit=100"));
  EXPECT_FALSE(QueryCarriesCredentials("tokens_left=3"));
}

// Names and values as a framework decodes them: a percent-encoded or
// space-prefixed name is still the credential parameter.
TEST(QueryCredentialsTest, ReadsNamesAndValuesDecoded) {
  EXPECT_TRUE(QueryCarriesCredentials("%74oken=abc"));
  EXPECT_TRUE(QueryCarriesCredentials("limit=5&%41CCESS_TOKEN=abc"));
  EXPECT_TRUE(QueryCarriesCredentials("+token=abc"));
  EXPECT_TRUE(QueryCarriesCredentials("%20%20api%5Fkey=abc"));
  EXPECT_TRUE(QueryCarriesCredentials("q=%42earer%20abc"));
  EXPECT_TRUE(QueryCarriesCredentials("q=Bearer%20"));
  EXPECT_FALSE(QueryCarriesCredentials("%74okens_left=3"));
  EXPECT_FALSE(QueryCarriesCredentials("q=%zz"));
  EXPECT_FALSE(QueryCarriesCredentials("q=bearer"));
}

TEST(FailureThrottleTest, BlocksAfterFiveFailuresWithGrowingDelay) {
  common::FakeTimeSource clock;
  FailureThrottle throttle({}, clock);
  for (int i = 0; i < 4; ++i) {
    throttle.RecordFailure("10.0.0.1");
    EXPECT_FALSE(throttle.RetryAfter("10.0.0.1")) << i;
  }
  throttle.RecordFailure("10.0.0.1");
  ASSERT_TRUE(throttle.RetryAfter("10.0.0.1"));
  EXPECT_EQ(*throttle.RetryAfter("10.0.0.1"), 1);
  EXPECT_FALSE(throttle.RetryAfter("10.0.0.2"));  // other clients unaffected

  clock.Advance(std::chrono::seconds(1));
  EXPECT_FALSE(throttle.RetryAfter("10.0.0.1"));
  throttle.RecordFailure("10.0.0.1");  // still failing: the delay doubles
  EXPECT_EQ(*throttle.RetryAfter("10.0.0.1"), 2);
  clock.Advance(std::chrono::seconds(2));
  throttle.RecordFailure("10.0.0.1");
  EXPECT_EQ(*throttle.RetryAfter("10.0.0.1"), 4);
  clock.Advance(std::chrono::milliseconds(3500));
  EXPECT_EQ(*throttle.RetryAfter("10.0.0.1"), 1);  // rounded up, never 0
}

TEST(FailureThrottleTest, DelayIsCapped) {
  common::FakeTimeSource clock;
  FailureThrottle::Policy policy;
  policy.max_delay = std::chrono::seconds(8);
  FailureThrottle throttle(policy, clock);
  int blocks = 0;
  for (int i = 0; i < 20; ++i) {
    throttle.RecordFailure("c");
    if (auto retry = throttle.RetryAfter("c")) {
      ++blocks;
      EXPECT_LE(*retry, 8);
      clock.Advance(std::chrono::seconds(*retry));
    }
  }
  EXPECT_EQ(blocks, 16);
}

TEST(FailureThrottleTest, SuccessAndQuietWindowForget) {
  common::FakeTimeSource clock;
  FailureThrottle throttle({}, clock);
  for (int i = 0; i < 4; ++i) throttle.RecordFailure("c");
  throttle.RecordSuccess("c");
  throttle.RecordFailure("c");
  EXPECT_FALSE(throttle.RetryAfter("c"));  // the count restarted

  for (int i = 0; i < 3; ++i) throttle.RecordFailure("d");
  clock.Advance(std::chrono::seconds(61));  // the window passed
  for (int i = 0; i < 4; ++i) throttle.RecordFailure("d");
  EXPECT_FALSE(throttle.RetryAfter("d"));
}

TEST(FailureThrottleTest, TracksABoundedNumberOfClients) {
  common::FakeTimeSource clock;
  FailureThrottle::Policy policy;
  policy.max_clients = 100;
  FailureThrottle throttle(policy, clock);
  for (int i = 0; i < 1000; ++i) {
    for (int k = 0; k < 5; ++k) throttle.RecordFailure("10.0." + std::to_string(i));
  }
  // The most recent offender is still blocked; the oldest have been dropped.
  EXPECT_TRUE(throttle.RetryAfter("10.0.999"));
  EXPECT_FALSE(throttle.RetryAfter("10.0.0"));
}

}  // namespace
}  // namespace tidegate::admin
