#include "tests/integration/harness/proxy_fixture.h"

#include "tests/integration/harness/admin_metrics.h"

#include <algorithm>
#include <thread>

namespace tidegate::itest {
namespace {

std::string Tail(const std::string& text, size_t max = 4000) {
  return text.size() <= max ? text : "..." + text.substr(text.size() - max);
}

}  // namespace

std::string Get(const std::string& path, const std::string& extra) {
  return "GET " + path + " HTTP/1.1\r\nHost: shop.test\r\n" + extra + "\r\n";
}

void ProxyTest::TearDown() {
  if (!tidegate_) return;
  bool alive = tidegate_->process().Running();
  if (!alive && !check_clean_exit_) {
    // The test stopped tidegate itself and checked the exit.
  } else if (!alive) {
    ADD_FAILURE() << "tidegate died during the test (status "
                  << tidegate_->process().exit_status().value_or(-1) << "); stderr:\n"
                  << Tail(tidegate_->Stderr());
  } else if (check_clean_exit_) {
    // tidegate installs its signal handlers a moment after its listeners
    // accept (start-up race, tested on its own by
    // LifecycleTest.Case32_SighupRightAfterStartIsNotFatal). Give start-up
    // up to 5 s to finish (its "listening on" log line) so that race is not
    // blamed on every short test.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (tidegate_->Stderr().find("listening on") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    auto status = tidegate_->Stop(std::chrono::seconds(10));
    if (!status) {
      ADD_FAILURE() << "tidegate did not exit within 10 s of SIGTERM; stderr:\n"
                    << Tail(tidegate_->Stderr());
    } else if (*status != 0) {
      ADD_FAILURE() << "tidegate exited with status " << *status
                    << " after SIGTERM (sanitizer report?); stderr:\n"
                    << Tail(tidegate_->Stderr());
    }
  }
  if (HasFailure() && alive) {
    std::cerr << "---- tidegate stderr (tail) ----\n" << Tail(tidegate_->Stderr()) << "\n";
  }
}

void ProxyTest::StartProxy(uint16_t upstream_port, const KeyValues& server_keys,
                           const KeyValues& upstream_keys, const std::string& tail,
                           std::optional<long> max_open_files) {
  TidegateOptions options;
  options.config = ProxyConfig(upstream_port, server_keys, upstream_keys, tail);
  options.max_open_files = max_open_files;
  tidegate_ = StartTidegateOrFail(dir_, options);
}

void ProxyTest::StartWithOrigin(ScriptedOrigin::Script script, const KeyValues& server_keys,
                                const KeyValues& upstream_keys, const std::string& tail) {
  origin_ = std::make_unique<ScriptedOrigin>(std::move(script));
  StartProxy(origin_->port(), server_keys, upstream_keys, tail);
}

void ProxyTest::StartWithDemoShop(const KeyValues& server_keys, const KeyValues& upstream_keys,
                                  const std::string& tail) {
  shop_ = StartDemoShopOrFail(dir_);
  if (!shop_) return;
  StartProxy(shop_->port(), server_keys, upstream_keys, tail);
}

HttpMessage ProxyTest::RoundTrip(const std::string& bytes, const ReadOptions& options) {
  auto conn = Connect();
  if (!conn) return FailedMessage("cannot connect");
  if (!conn->Send(bytes)) return FailedMessage("send failed");
  return ReadResponse(*conn, options);
}

void ProxyTest::ExpectRejectedAndClosed(const std::string& bytes,
                                        const std::vector<int>& statuses) {
  SCOPED_TRACE("request bytes: \"" + Printable(bytes) + "\"");
  auto conn = Connect();
  ASSERT_TRUE(conn);
  conn->Send(bytes);  // may fail half-way when the proxy closes early: fine
  HttpMessage r = ReadResponse(*conn);
  ASSERT_TRUE(r.ok) << "no complete response: " << r.error;
  EXPECT_TRUE(std::find(statuses.begin(), statuses.end(), r.status) != statuses.end())
      << "status " << r.status << "; response: \"" << Printable(r.raw) << "\"";
  ReadStatus s = conn->ReadUntilClose(std::chrono::seconds(5));
  EXPECT_TRUE(s == ReadStatus::kClosed || s == ReadStatus::kReset)
      << "the proxy kept the connection open after a " << r.status << " (" << ToString(s) << ")";
  EXPECT_EQ(conn->buffer(), "") << "bytes after the error response: \"" << Printable(conn->buffer())
                                << "\"";
}

void ProxyTest::ExpectOriginNeverSaw(const std::string& marker) {
  ASSERT_TRUE(origin_);
  ExpectServes("/after-check");
  std::string all = origin_->AllReceived();
  EXPECT_EQ(all.find(marker), std::string::npos)
      << "the origin received \"" << marker << "\"; all origin bytes: \"" << Printable(all, 4000)
      << "\"";
}

void ProxyTest::ExpectServes(const std::string& path) {
  HttpMessage r = RoundTrip(Get(path));
  ASSERT_TRUE(r.ok) << "GET " << path << ": " << r.error;
  EXPECT_EQ(r.status, 200) << "GET " << path << ": \"" << Printable(r.raw) << "\"";
}

long ProxyTest::Metric(const std::string& name) {
  return static_cast<long>(ReadMetric(tidegate_->admin_port(), "tidegate_" + name).value_or(-1));
}

}  // namespace tidegate::itest
