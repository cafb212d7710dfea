// Proves the fixture's assertions can fail: the helpers are aimed at fake
// "proxies" (scripted servers) that misbehave in the ways the reliability
// tests look for, and each helper must report a failure.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include "tests/integration/harness/proxy_fixture.h"

namespace tidegate::itest {
namespace {

// A fake proxy answering every request with `answer`, then either closing
// or keeping the connection open.
ScriptedOrigin::Script Answer(std::string answer, bool close_after) {
  return [answer, close_after](OriginConnection& conn) {
    if (!conn.ReadRequest(milliseconds(5000)).ok && conn.buffer().empty()) return;
    conn.Send(answer);
    if (close_after) return;
    conn.WaitForClose(milliseconds(10000));
  };
}

class FixtureSelfTest : public ProxyTest {
 protected:
  void AimAt(ScriptedOrigin::Script script) {
    fake_ = std::make_unique<ScriptedOrigin>(std::move(script));
    port_override_ = fake_->port();
  }
  std::unique_ptr<ScriptedOrigin> fake_;
};

TEST_F(FixtureSelfTest, RejectedAndClosedPassesOnlyFor400ThenClose) {
  AimAt(Answer(ResponseBytes(400, "bad"), /*close_after=*/true));
  ExpectRejectedAndClosed(Get("/x"));  // must not fail
}

TEST_F(FixtureSelfTest, RejectedAndClosedFailsOnWrongStatus) {
  AimAt(Answer(ResponseBytes(200, "fine"), true));
  EXPECT_NONFATAL_FAILURE(ExpectRejectedAndClosed(Get("/x")), "status 200");
}

TEST_F(FixtureSelfTest, RejectedAndClosedFailsWhenKeptOpen) {
  AimAt(Answer(ResponseBytes(400, "bad"), false));
  EXPECT_NONFATAL_FAILURE(ExpectRejectedAndClosed(Get("/x")), "kept the connection open");
}

TEST_F(FixtureSelfTest, RejectedAndClosedFailsOnASecondResponse) {
  AimAt(Answer(ResponseBytes(400, "bad") + ResponseBytes(200, "smuggled"), true));
  EXPECT_NONFATAL_FAILURE(ExpectRejectedAndClosed(Get("/x")), "bytes after the error response");
}

TEST_F(FixtureSelfTest, OriginNeverSawDetectsTheMarker) {
  // The fake proxy is also the origin here: it records what it receives.
  origin_ = std::make_unique<ScriptedOrigin>(ServeOkForever());
  port_override_ = origin_->port();
  EXPECT_NONFATAL_FAILURE(
      {
        RoundTrip(Get("/smuggled"));
        ExpectOriginNeverSaw("/smuggled");
      },
      "the origin received");
}

}  // namespace
}  // namespace tidegate::itest
