// Lingering close (RFC 9112 §9.6; docs/architecture.md "Lingering close"):
// an answer sent while the client is still sending (a refused head, a body
// past the limit, garbage after a bad request) must reach a client that
// reads it late, followed by a clean close (FIN), never a TCP reset; the
// lingering connection ends when the client closes or goes quiet, and a
// drain does not wait for it.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness/proxy_fixture.h"
#include "tests/integration/harness/test_certs.h"
#include "tests/integration/harness/tls_client.h"

namespace tidegate::itest {
namespace {

using Clock = std::chrono::steady_clock;

std::string ManyHeaders(int count, size_t value_size) {
  std::string fields;
  for (int i = 0; i < count; ++i) {
    fields += "X-H" + std::to_string(i) + ": " + std::string(value_size, 'v') + "\r\n";
  }
  return fields;
}

class LingeringCloseTest : public ProxyTest {
 protected:
  void StartWithLimits() { StartWithOrigin(ServeOkForever(), {{"max_body_bytes", "65536"}}); }

  // Sends `bytes` (as much as the proxy takes), reads only after `delay`,
  // as a slow or busy client does, and expects the whole answer with
  // `status` and then a clean end of stream.
  void ExpectAnswerSurvivesALateRead(const std::string& title, const std::string& bytes,
                                     int status) {
    SCOPED_TRACE(title);
    auto conn = Connect();
    ASSERT_TRUE(conn);
    conn->Send(bytes);  // the proxy may stop taking bytes: what it took is enough
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    HttpMessage r = ReadResponse(*conn);
    ASSERT_TRUE(r.ok) << "the answer was lost: " << r.error
                      << (conn->peer_reset() ? " (the connection was reset)" : "");
    EXPECT_EQ(r.status, status);
    ReadStatus end = conn->ReadUntilClose(std::chrono::seconds(5));
    EXPECT_EQ(end, ReadStatus::kClosed) << "ended with " << ToString(end);
    EXPECT_FALSE(conn->peer_reset());
  }

  // A connection whose 100 KiB head was answered 431; the answer and the
  // FIN are read (the FIN follows the start of the linger), the connection
  // is left open on this side.
  std::unique_ptr<RawConnection> LingeringAfterA431() {
    auto conn = Connect();
    if (!conn) return nullptr;
    conn->Send(Get("/", ManyHeaders(85, 1200)));
    HttpMessage r = ReadResponse(*conn);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.status, 431);
    EXPECT_EQ(conn->ReadUntilClose(std::chrono::seconds(5)), ReadStatus::kClosed);
    return conn;
  }
};

TEST_F(LingeringCloseTest, ErrorAnswersSurviveALateReadAndEndWithAFinNotAReset) {
  StartWithLimits();
  ASSERT_TRUE(Started());
  ExpectAnswerSurvivesALateRead("431: a head of 100 KiB", Get("/", ManyHeaders(85, 1200)), 431);
  ExpectAnswerSurvivesALateRead("431: a head of 300 KiB", Get("/", ManyHeaders(250, 1200)), 431);
  ExpectAnswerSurvivesALateRead("414: a URI of 200 KiB", Get("/?" + std::string(200000, 'a')), 414);
  ExpectAnswerSurvivesALateRead(
      "413: Content-Length 20 MB, 200 KB sent",
      "POST /upload HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 20000000\r\n\r\n" +
          std::string(200000, 'z'),
      413);
  ExpectAnswerSurvivesALateRead(
      "400: two Host fields, then 200 KB of garbage",
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n" + std::string(200000, 'z'), 400);
  EXPECT_GE(Metric("connections_lingered_total"), 5);
  EXPECT_EQ(origin_->requests_seen(), 0);
  ExpectServes();
}

TEST_F(LingeringCloseTest, AnUploadGoingOnAfterA413IsReadUntilTheClientStops) {
  StartWithLimits();
  ASSERT_TRUE(Started());
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(
      conn->Send("POST /upload HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 5000000\r\n\r\n"));
  // The client keeps uploading after the answer was sent, as a browser does
  // until it notices: every byte is taken (no reset stops the upload).
  std::string piece(64 * 1024, 'u');
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(conn->Send(piece)) << "the proxy stopped reading after " << i << " pieces";
  }
  HttpMessage r = ReadResponse(*conn);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(conn->ReadUntilClose(std::chrono::seconds(5)), ReadStatus::kClosed);
  EXPECT_FALSE(conn->peer_reset());
}

TEST_F(LingeringCloseTest, ALingeringConnectionEndsWhenTheClientGoesQuiet) {
  StartWithLimits();
  ASSERT_TRUE(Started());
  // The start-up probe's connection may still be open for an instant.
  Clock::time_point settle = Clock::now();
  while (Metric("connections_active") != 0 && Clock::now() - settle < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  long before = Metric("connections_active");
  ASSERT_EQ(before, 0);
  auto conn = LingeringAfterA431();
  ASSERT_TRUE(conn);
  // The client neither sends nor closes: the proxy closes within the quiet
  // wait (5 s), it does not keep the descriptor for the whole 30 s.
  Clock::time_point start = Clock::now();
  long active = -1;
  while (Clock::now() - start < std::chrono::seconds(12)) {
    active = Metric("connections_active");
    if (active == before) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(active, before) << "the lingering connection was still open after 12 s";
  EXPECT_GE(Clock::now() - start, std::chrono::seconds(3))
      << "closed before the quiet wait (connections before " << before << ", now " << active
      << ", lingered " << Metric("connections_lingered_total") << ")";
}

TEST_F(LingeringCloseTest, ADrainDoesNotWaitForALingeringConnection) {
  StartWithLimits();
  ASSERT_TRUE(Started());
  auto conn = LingeringAfterA431();
  ASSERT_TRUE(conn);
  EXPECT_EQ(Metric("connections_lingered_total"), 1);
  check_clean_exit_ = false;
  Clock::time_point start = Clock::now();
  std::optional<int> status = tidegate_->Stop(std::chrono::seconds(10));
  ASSERT_TRUE(status.has_value()) << "tidegate did not exit within 10 s";
  EXPECT_EQ(*status, 0);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3)) << "the drain waited for the linger";
}

TEST_F(LingeringCloseTest, OverTlsA413SurvivesALateReadAndEndsWithoutAReset) {
  std::string error;
  CertFiles cert;
  ASSERT_TRUE(MakeCertificate(dir_, "shop", "shop.example", {"shop.example"}, &cert, &error))
      << error;
  StartWithOrigin(ServeOkForever(), {{"max_body_bytes", "65536"}}, {},
                  "\n[server.tls]\nlisten = [\"127.0.0.1:${TLS_PORT}\"]\n"
                  "certificates = [{ cert = \"${DIR}/shop.pem\", key = \"${DIR}/shop.key\" }]\n");
  ASSERT_TRUE(Started());
  for (const char* what : {"413", "431"}) {
    SCOPED_TRACE(what);
    TlsClientOptions options;
    options.sni = "shop.example";
    auto conn = TlsConnection::Connect(tidegate_->tls_port(), options, &error);
    ASSERT_TRUE(conn) << error;
    std::string bytes =
        std::string(what) == "413"
            ? "POST /upload HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 20000000\r\n\r\n" +
                  std::string(200000, 'z')
            : Get("/", ManyHeaders(85, 1200));
    conn->Send(bytes);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    HttpMessage r = ReadResponse(*conn);
    ASSERT_TRUE(r.ok) << "the answer was lost: " << r.error
                      << (conn->peer_reset() ? " (the connection was reset)" : "");
    EXPECT_EQ(r.status, std::stoi(what));
    ReadStatus end = conn->ReadUntilClose(std::chrono::seconds(5));
    EXPECT_EQ(end, ReadStatus::kClosed) << "ended with " << ToString(end);
    EXPECT_FALSE(conn->peer_reset());
  }
  EXPECT_GE(Metric("connections_lingered_total"), 2);
}

// Near the connection limit the slot is worth more than the courtesy: a
// worker holding three quarters of its share closes without lingering.
TEST_F(LingeringCloseTest, NearTheConnectionLimitAConnectionClosesWithoutLingering) {
  StartWithOrigin(ServeOkForever(), {{"max_connections", "4"}});
  ASSERT_TRUE(Started());
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 2; ++i) {
    idle.push_back(Connect());
    ASSERT_TRUE(idle.back());
    HttpMessage r = RoundTrip(Get("/ok"));  // on its own connection: the idle ones stay open
    ASSERT_TRUE(r.ok) << r.error;
  }
  Clock::time_point deadline = Clock::now() + std::chrono::seconds(5);
  while (Metric("connections_active") != 2 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(Metric("connections_active"), 2);
  {
    auto conn = Connect();  // the third of four: answered, closed without lingering
    ASSERT_TRUE(conn);
    conn->Send(Get("/", ManyHeaders(85, 1200)));
    HttpMessage r = ReadResponse(*conn);
    EXPECT_TRUE(r.ok) << r.error;  // read at once: here it arrives before the reset
    EXPECT_EQ(r.status, 431);
    ReadStatus end = conn->ReadUntilClose(std::chrono::seconds(5));
    EXPECT_TRUE(end == ReadStatus::kClosed || end == ReadStatus::kReset) << ToString(end);
  }
  EXPECT_EQ(Metric("connections_lingered_total"), 0);
  idle.clear();
  deadline = Clock::now() + std::chrono::seconds(5);
  while (Metric("connections_active") != 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto conn = LingeringAfterA431();  // alone again: lingers
  ASSERT_TRUE(conn);
  EXPECT_EQ(Metric("connections_lingered_total"), 1);
}

TEST_F(LingeringCloseTest, ACleanKeepAliveCloseDoesNotLinger) {
  StartWithLimits();
  ASSERT_TRUE(Started());
  for (int i = 0; i < 3; ++i) {
    HttpMessage r = RoundTrip(Get("/ok", "Connection: close\r\n"));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.status, 200);
  }
  EXPECT_EQ(Metric("connections_lingered_total"), 0);
}

}  // namespace
}  // namespace tidegate::itest
