// TLS listeners: versions, ALPN, SNI certificate selection, certificates
// reloaded on SIGHUP, and requests over TLS.
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <poll.h>

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
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(MakeCertificate(dir_, "shop", "shop.example", {"shop.example", "www.shop.example"},
                                &shop_, &error))
        << error;
    ASSERT_TRUE(
        MakeCertificate(dir_, "other", "other.example", {"*.other.example"}, &other_, &error))
        << error;
    StartWithOrigin(ServeOkForever(), {}, {}, kTlsTail);
    ASSERT_TRUE(Started());
  }

  std::unique_ptr<TlsConnection> TlsConnect(const TlsClientOptions& options, std::string* error) {
    return TlsConnection::Connect(tidegate_->tls_port(), options, error);
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

}  // namespace
}  // namespace tidegate::itest
