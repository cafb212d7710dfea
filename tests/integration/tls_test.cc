// TLS listeners: versions, ALPN, SNI certificate selection, certificates
// reloaded on SIGHUP, and requests over TLS.
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <poll.h>

#include <atomic>
#include <chrono>
#include <string>

#include "tests/integration/harness/proxy_fixture.h"
#include "tests/integration/harness/test_certs.h"
#include "tests/integration/harness/tls_client.h"

namespace tidegate::itest {
namespace {

const char kTlsTail[] =
    "\n[server.tls]\n"
    "listen = [\"127.0.0.1:${TLS_PORT}\"]\n"
    "certificates = [\n"
    "  { cert = \"${DIR}/shop.pem\", key = \"${DIR}/shop.key\" },\n"
    "  { cert = \"${DIR}/other.pem\", key = \"${DIR}/other.key\" },\n"
    "]\n";

class TlsTest : public ProxyTest {
 protected:
  void SetUp() override { StartWithCertificates(ServeOkForever()); }

  // The two certificates, then tidegate with kTlsTail in front of `origin`.
  void StartWithCertificates(ScriptedOrigin::Script origin) {
    std::string error;
    ASSERT_TRUE(MakeCertificate(dir_, "shop", "shop.example", {"shop.example", "www.shop.example"},
                                &shop_, &error))
        << error;
    ASSERT_TRUE(
        MakeCertificate(dir_, "other", "other.example", {"*.other.example"}, &other_, &error))
        << error;
    StartWithOrigin(std::move(origin), {}, {}, kTlsTail);
    ASSERT_TRUE(Started());
  }

  std::unique_ptr<TlsConnection> TlsConnect(const TlsClientOptions& options, std::string* error) {
    return TlsConnection::Connect(tidegate_->tls_port(), options, error);
  }
  // A handshake naming shop.example; nullptr (and a test failure) if it fails.
  std::unique_ptr<TlsConnection> ConnectToShop() {
    TlsClientOptions options;
    options.sni = "shop.example";
    std::string error;
    auto conn = TlsConnect(options, &error);
    EXPECT_TRUE(conn) << error;
    return conn;
  }

  CertFiles shop_;
  CertFiles other_;
};

TEST_F(TlsTest, Tls12And13AcceptedWithAlpnHttp11) {
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    SCOPED_TRACE(version);
    TlsClientOptions options;
    options.sni = "shop.example";
    options.min_version = version;
    options.max_version = version;
    std::string error;
    auto conn = TlsConnect(options, &error);
    ASSERT_TRUE(conn) << error;
    EXPECT_EQ(conn->version(), version);
    EXPECT_EQ(conn->alpn(), "http/1.1");
    ASSERT_TRUE(conn->Send(Get("/over-tls")));
    HttpMessage r = ReadResponse(*conn);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "ok:/over-tls");
  }
  std::string got = origin_->AllReceived();
  EXPECT_NE(got.find("X-Forwarded-Proto: https\r\n"), std::string::npos) << Printable(got);
}

TEST_F(TlsTest, Tls11IsRefused) {
  TlsClientOptions options;
  options.sni = "shop.example";
  options.min_version = TLS1_1_VERSION;
  options.max_version = TLS1_1_VERSION;
  std::string error;
  auto conn = TlsConnect(options, &error);
  EXPECT_FALSE(conn) << "a TLS 1.1 handshake succeeded";
  ExpectServes("/plain-still-works");
}

TEST_F(TlsTest, OnlyH2OfferedGetsNoAlpnAnswer) {
  TlsClientOptions options;
  options.sni = "shop.example";
  options.alpn = {"h2"};
  std::string error;
  auto conn = TlsConnect(options, &error);
  // proxy/tls_context.h: a client offering only other protocols gets no ALPN
  // answer (as with nginx): the handshake completes, nothing is selected.
  ASSERT_TRUE(conn) << error;
  EXPECT_EQ(conn->alpn(), "");
}

TEST_F(TlsTest, SniPicksTheMatchingCertificate) {
  struct Case {
    std::string sni;
    std::string expected_cn;
  } cases[] = {
      {"shop.example", "shop.example"},
      {"www.shop.example", "shop.example"},
      {"a.other.example", "other.example"},
      {"A.OTHER.EXAMPLE", "other.example"},
      {"b.a.other.example", "shop.example"},  // wildcard matches one label only
      {"unknown.example", "shop.example"},    // no match: the first certificate
      {"", "shop.example"},                   // no SNI: the first certificate
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("SNI \"" + c.sni + "\"");
    TlsClientOptions options;
    options.sni = c.sni;
    std::string error;
    auto conn = TlsConnect(options, &error);
    ASSERT_TRUE(conn) << error;
    EXPECT_EQ(conn->peer_common_name(), c.expected_cn);
  }
}

TEST_F(TlsTest, CertificatesAreReloadedOnSighup) {
  TlsClientOptions options;
  options.sni = "shop.example";
  std::string error;
  auto before = TlsConnect(options, &error);
  ASSERT_TRUE(before) << error;
  std::string old_fingerprint = before->peer_fingerprint();
  // Keep this connection open across the reload: it must keep working.
  // New key + certificate at the same paths.
  CertFiles renewed;
  ASSERT_TRUE(MakeCertificate(dir_, "shop", "shop.example", {"shop.example"}, &renewed, &error))
      << error;
  ASSERT_TRUE(tidegate_->Reload());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string fingerprint = old_fingerprint;
  while (std::chrono::steady_clock::now() < deadline) {
    auto conn = TlsConnect(options, &error);
    ASSERT_TRUE(conn) << "handshake failed during reload: " << error;
    fingerprint = conn->peer_fingerprint();
    if (fingerprint != old_fingerprint) break;
    poll(nullptr, 0, 50);
  }
  EXPECT_NE(fingerprint, old_fingerprint) << "the old certificate is still served after SIGHUP";
  ASSERT_TRUE(before->Send(Get("/old-connection")));
  HttpMessage r = ReadResponse(*before);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 200);
}

// Audit 12: a SIGHUP that changed [server.tls] listen, or removed the
// section, said "server.listen changed"; it names the TLS key now.
TEST_F(TlsTest, AReloadThatMovesTheTlsListenerNamesIt) {
  auto reload_log = [&](const std::string& tail) {
    size_t from = tidegate_->Stderr().size();
    EXPECT_TRUE(tidegate_->RewriteConfig(ProxyConfig(origin_->port()) + tail));
    EXPECT_TRUE(tidegate_->Reload());
    std::string log;
    for (int i = 0; i < 200; ++i) {
      log = tidegate_->Stderr().substr(from);
      if (log.find("configuration reloaded") != std::string::npos) break;
      poll(nullptr, 0, 50);
    }
    return log;
  };
  std::string moved = kTlsTail;
  moved.replace(moved.find("${TLS_PORT}"), 11, std::to_string(FreeLoopbackPort()));
  std::string log = reload_log(moved);
  EXPECT_NE(log.find("config.restart_needed: server.tls.listen changed"), std::string::npos) << log;
  log = reload_log("");
  EXPECT_NE(log.find("config.restart_needed: server.tls.listen changed"), std::string::npos) << log;
  log = reload_log(kTlsTail);  // back to what runs: nothing to restart
  EXPECT_NE(log.find("configuration reloaded"), std::string::npos) << log;
  EXPECT_EQ(log.find("restart_needed"), std::string::npos) << log;
}

// Audit 11: a TLS client that went away (a bare FIN or a reset, no
// close_notify) while its response was on the way stayed open for ever: the
// TLS layer stops writing at end of input, so no write error nor
// send_timeout ever came; a large download also left the origin's
// connection stuck unread. Now both are released at once.
class TlsAbortTest : public TlsTest {
 protected:
  void SetUp() override {
    StartWithCertificates([this](OriginConnection& conn) {
      for (;;) {
        HttpMessage request = conn.ReadRequest();
        if (!request.ok) return;
        if (request.url == "/late") {  // answers once the client has gone
          conn.WaitForClose(milliseconds(800));
          if (!conn.Send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")) return;
          continue;
        }
        // "/big": 256 MiB, sent until the proxy stops taking it.
        if (!conn.Send("HTTP/1.1 200 OK\r\nContent-Length: 268435456\r\n\r\n")) return;
        std::string piece(64 * 1024, 'x');
        for (int i = 0; i < 4096 && !conn.stopping(); ++i) {
          if (!conn.Send(piece)) break;
        }
        origin_released_ = conn.WaitForClose(milliseconds(10000));
        return;
      }
    });
  }
  // Waits (at most 8 s) until the proxy holds no client connection.
  bool AllClientConnectionsClosed() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(8);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Metric("connections_active") == 0) return true;
      poll(nullptr, 0, 50);
    }
    return false;
  }
  std::atomic<bool> origin_released_{false};
};

TEST_F(TlsAbortTest, AClientGoneBeforeItsAnswerIsReleased) {
  for (bool reset : {false, true}) {
    SCOPED_TRACE(reset ? "reset" : "bare FIN");
    auto conn = ConnectToShop();
    ASSERT_TRUE(conn);
    ASSERT_TRUE(conn->Send(Get("/late")));
    poll(nullptr, 0, 200);
    if (reset) {
      conn->Reset();
    } else {
      conn->ShutdownWrite();  // TCP FIN, no close_notify
      conn->Close();
    }
    poll(nullptr, 0, 1000);  // the origin answered meanwhile
    EXPECT_TRUE(AllClientConnectionsClosed()) << Metric("connections_active") << " still open";
  }
  ExpectServes("/after");
}

TEST_F(TlsAbortTest, ADownloadAbandonedMidwayReleasesTheOrigin) {
  auto conn = ConnectToShop();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(Get("/big")));
  ASSERT_TRUE(conn->ReadAtLeast(1024 * 1024, milliseconds(5000)));
  conn->ShutdownWrite();
  conn->Close();
  EXPECT_TRUE(AllClientConnectionsClosed()) << Metric("connections_active") << " still open";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(8);
  while (!origin_released_ && std::chrono::steady_clock::now() < deadline) poll(nullptr, 0, 50);
  EXPECT_TRUE(origin_released_) << "the origin's connection was left stuck";
}

}  // namespace
}  // namespace tidegate::itest
