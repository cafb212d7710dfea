// The common GoogleTest fixture of the integration tests: a temp dir, an
// origin (scripted or the demo shop) and one tidegate in front of it.
//
// Contract:
// * StartWithOrigin()/StartWithDemoShop() start the origin, then tidegate
//   with ProxyConfig(origin port, server_keys, upstream_keys, tail); they
//   record a gtest failure (and leave tidegate() null) when something does
//   not start — tests ASSERT_TRUE(Started()).
// * TearDown() checks that tidegate is still alive (a crash fails the test,
//   with its stderr), waits (<= 5 s) for its "listening on" start-up line
//   (see the .cc for why), then sends SIGTERM and expects exit status 0 within
//   10 s (under AddressSanitizer a leak or memory error makes the status
//   non-zero, so every test doubles as a leak/crash check). On any failure
//   the tail of tidegate's stderr is printed.
// * Helpers send exact bytes on fresh connections. Test thread only.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/demo_shop.h"
#include "tests/integration/harness/http_reader.h"
#include "tests/integration/harness/ports.h"
#include "tests/integration/harness/scripted_origin.h"
#include "tests/integration/harness/temp_dir.h"
#include "tests/integration/harness/tidegate_process.h"

namespace tidegate::itest {

class ProxyTest : public ::testing::Test {
 protected:
  void TearDown() override;

  void StartWithOrigin(ScriptedOrigin::Script script, const KeyValues& server_keys = {},
                       const KeyValues& upstream_keys = {}, const std::string& tail = "");
  void StartWithDemoShop(const KeyValues& server_keys = {}, const KeyValues& upstream_keys = {},
                         const std::string& tail = "");
  // Starts tidegate in front of an arbitrary upstream port.
  void StartProxy(uint16_t upstream_port, const KeyValues& server_keys = {},
                  const KeyValues& upstream_keys = {}, const std::string& tail = "",
                  std::optional<long> max_open_files = std::nullopt);
  bool Started() const { return tidegate_ != nullptr; }

  uint16_t port() const { return port_override_ != 0 ? port_override_ : tidegate_->port(); }
  std::unique_ptr<RawConnection> Connect() { return ConnectOrFail(port()); }

  // One request on a fresh connection; returns the first response.
  HttpMessage RoundTrip(const std::string& bytes, const ReadOptions& options = {});
  // Sends `bytes` on a fresh connection and expects: one response whose
  // status is in `statuses`, then the proxy closes the connection, and no
  // byte follows the response.
  void ExpectRejectedAndClosed(const std::string& bytes, const std::vector<int>& statuses = {400});
  // Proves the origin never received `marker`: first completes a good
  // request on a new connection (so anything forwarded earlier has arrived),
  // then searches every byte the scripted origin received.
  void ExpectOriginNeverSaw(const std::string& marker);
  // A simple GET that must answer 200 (fresh connection).
  void ExpectServes(const std::string& path = "/ok");
  // A sample without labels from the admin listener's /metrics (open on
  // loopback), e.g. Metric("connections_active"); -1 when it is not there.
  long Metric(const std::string& name);

  TempDir dir_;
  std::unique_ptr<ScriptedOrigin> origin_;
  std::unique_ptr<DemoShop> shop_;
  std::unique_ptr<TidegateProcess> tidegate_;
  // Set to false by a test that stops tidegate itself.
  bool check_clean_exit_ = true;
  // Harness self-tests aim the helpers at a fake proxy instead of tidegate.
  uint16_t port_override_ = 0;
};

// "GET <path> HTTP/1.1\r\nHost: shop.test\r\n<extra>\r\n"
std::string Get(const std::string& path, const std::string& extra = "");

}  // namespace tidegate::itest
