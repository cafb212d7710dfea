// Reliability cases 27–28: size limits, and descriptor exhaustion.
#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/integration/harness/proc_stats.h"
#include "tests/integration/harness/proxy_fixture.h"

namespace tidegate::itest {
namespace {

using Clock = std::chrono::steady_clock;

class LimitsTest : public ProxyTest {};

TEST_F(LimitsTest, Case27_OversizedRequestLineHeadersAndBody) {
  StartWithOrigin(ServeOkForever(), {{"max_request_line", "1024"},
                                     {"max_header_bytes", "4096"},
                                     {"max_headers", "20"},
                                     {"max_body_bytes", "65536"}});
  ASSERT_TRUE(Started());
  ExpectRejectedAndClosed(Get("/" + std::string(2000, 'a')), {414});
  ExpectRejectedAndClosed(Get("/", "X-Big: " + std::string(5000, 'b') + "\r\n"), {431});
  std::string many;
  for (int i = 0; i < 30; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  ExpectRejectedAndClosed(Get("/", many), {431});
  std::string spread;  // many small headers adding up past max_header_bytes
  for (int i = 0; i < 15; ++i)
    spread += "X-S" + std::to_string(i) + ": " + std::string(400, 's') + "\r\n";
  ExpectRejectedAndClosed(Get("/", spread), {431});
  ExpectRejectedAndClosed("POST /b HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 100000\r\n\r\n" +
                              std::string(1000, 'x'),
                          {413});
  // A chunked body that grows past the limit.
  std::string chunked = "POST /b HTTP/1.1\r\nHost: shop.test\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 20; ++i) chunked += "1000\r\n" + std::string(4096, 'c') + "\r\n";
  chunked += "0\r\n\r\n";
  ExpectRejectedAndClosed(chunked, {413});
  EXPECT_EQ(origin_->requests_seen(), 0);
  // Just under every limit still passes.
  std::string ok_headers;
  for (int i = 0; i < 15; ++i) ok_headers += "X-H" + std::to_string(i) + ": v\r\n";
  HttpMessage r = RoundTrip(Get("/" + std::string(900, 'a'), ok_headers));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 200);
}

TEST_F(LimitsTest, Case28_DescriptorExhaustionNoBusyLoopAndRecovery) {
#ifdef TIDEGATE_TESTING_SANITIZED_BUILD
  // The sanitizer build cannot judge this case: UBSan's vptr check tells a
  // valid object from garbage with a pipe (sanitizer_common's
  // IsAccessibleMemoryRange), which fails with EMFILE here, so every first
  // check of a type while the descriptors are exhausted reports "invalid
  // vptr" on a live object (seen on ClientConnection and a shared_ptr
  // control block; valgrind and the release build find nothing). The
  // release build runs the case.
  GTEST_SKIP() << "descriptor exhaustion breaks UBSan's own vptr check";
#endif
  origin_ = std::make_unique<ScriptedOrigin>(ServeOkForever());
  // 64 descriptors for the whole process; idle connections are kept for
  // 20 s so the exhaustion lasts through the measurement.
  StartProxy(origin_->port(), {{"header_timeout", "\"20s\""}, {"keepalive_timeout", "\"20s\""}}, {},
             "", 64);
  ASSERT_TRUE(Started());
  ExpectServes("/before");
  // Hold far more connections than the proxy has descriptors for.
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 120; ++i) {
    auto conn = Connect();  // completes in the kernel backlog even unaccepted
    ASSERT_TRUE(conn) << "connection " << i;
    held.push_back(std::move(conn));
  }
  // Wait until the proxy has taken all the descriptors it can.
  auto deadline = Clock::now() + std::chrono::seconds(10);
  int fds = 0;
  while (Clock::now() < deadline) {
    fds = CountOpenFds(tidegate_->pid());
    if (fds >= 60) break;
    poll(nullptr, 0, 50);
  }
  EXPECT_GE(fds, 60) << "the proxy never came close to its descriptor limit";
  // While exhausted (pending connections in the backlog, accept failing
  // with EMFILE), the proxy must not spin: CPU time over 2 s stays low.
  double cpu_before = CpuSeconds(tidegate_->pid());
  auto window = Clock::now();
  poll(nullptr, 0, 2000);
  double wall = std::chrono::duration<double>(Clock::now() - window).count();
  double cpu = CpuSeconds(tidegate_->pid()) - cpu_before;
  EXPECT_LT(cpu, 0.25 * wall) << "busy accept loop: " << cpu << " s CPU in " << wall << " s";
  EXPECT_TRUE(tidegate_->process().Running());
  // Free the descriptors: service resumes.
  held.clear();
  deadline = Clock::now() + std::chrono::seconds(15);
  bool recovered = false;
  std::string last;
  while (Clock::now() < deadline) {
    HttpMessage r = RoundTrip(Get("/after"), Within(milliseconds(2000)));
    if (r.ok && r.status == 200) {
      recovered = true;
      break;
    }
    last = r.ok ? Printable(r.raw) : r.error;
    poll(nullptr, 0, 100);
  }
  EXPECT_TRUE(recovered) << "no 200 after the descriptors were freed; last: " << last;
}

}  // namespace
}  // namespace tidegate::itest
