// [admin.tls] in the real binary: the admin API answers over HTTPS only,
// a plain-HTTP client on that port gets no HTTP answer, `tidegate ctl`
// talks to it with --cacert (and refuses an untrusted certificate), a
// certificate that does not load stops the start, and SIGHUP picks up a
// renewed certificate for new connections.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/http_reader.h"
#include "tests/integration/harness/process.h"
#include "tests/integration/harness/scripted_origin.h"
#include "tests/integration/harness/sha256_hex.h"
#include "tests/integration/harness/temp_dir.h"
#include "tests/integration/harness/tidegate_process.h"
#include "tests/integration/harness/tls_client.h"

namespace tidegate::itest {
namespace {

using Json = nlohmann::json;

constexpr char kOperatorToken[] = "tls-operator-token-0123456789abcdef0123";

// A self-signed certificate naming IP 127.0.0.1 (what an https://127.0.0.1
// URL is verified against) and DNS localhost, made with the openssl CLI.
bool MakeAdminCertificate(const TempDir& dir, const std::string& stem, std::string* error) {
  ProcessOptions po;
  po.argv = {"openssl",
             "req",
             "-x509",
             "-newkey",
             "ec",
             "-pkeyopt",
             "ec_paramgen_curve:prime256v1",
             "-nodes",
             "-days",
             "2",
             "-subj",
             "/CN=tidegate-admin-" + stem,
             "-addext",
             "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout",
             dir.File(stem + ".key"),
             "-out",
             dir.File(stem + ".pem")};
  po.log_dir = dir.path();
  po.name = "openssl-" + stem;
  auto proc = Process::Start(po, error);
  if (!proc) return false;
  std::optional<int> status = proc->WaitExit(std::chrono::seconds(30));
  if (!status || *status != 0) {
    *error = "openssl req failed: " + proc->Stderr();
    return false;
  }
  return true;
}

std::string Config(uint16_t origin_port, const std::string& cert, const std::string& key) {
  return "[server]\n"
         "listen = [\"127.0.0.1:${PORT}\"]\n"
         "workers = 1\n"
         "drain_timeout = \"5s\"\n"
         "\n[upstream]\n"
         "servers = [\"127.0.0.1:" +
         std::to_string(origin_port) +
         "\"]\n"
         "\n[admin]\n"
         "listen = \"127.0.0.1:${ADMIN_PORT}\"\n"
         "audit_log = \"${DIR}/admin-audit.jsonl\"\n"
         "tokens = [{ name = \"ops\", token_sha256 = \"" +
         Sha256Hex(kOperatorToken) +
         "\", role = \"operator\" }]\n"
         "\n[admin.tls]\n"
         "cert = \"" +
         cert +
         "\"\n"
         "key = \"" +
         key + "\"\n";
}

class AdminTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(MakeAdminCertificate(dir_, "admin", &error)) << error;
    origin_ = std::make_unique<ScriptedOrigin>(ServeOkForever());
    TidegateOptions options;
    options.config = Config(origin_->port(), "${DIR}/admin.pem", "${DIR}/admin.key");
    tidegate_ = StartTidegateOrFail(dir_, options);
    ASSERT_NE(tidegate_, nullptr);
    admin_port_ = tidegate_->admin_port();
  }

  void TearDown() override {
    if (!tidegate_) return;
    ASSERT_TRUE(tidegate_->process().Running()) << "tidegate died:\n" << tidegate_->Stderr();
    std::optional<int> status = tidegate_->Stop(std::chrono::seconds(10));
    EXPECT_EQ(status, 0) << "stderr:\n" << tidegate_->Stderr();
  }

  std::unique_ptr<TlsConnection> ConnectTls() {
    std::string error;
    auto conn = TlsConnection::Connect(admin_port_, TlsClientOptions{}, &error);
    EXPECT_NE(conn, nullptr) << error;
    return conn;
  }

  // GET `target` over a fresh TLS connection.
  HttpMessage GetOverTls(const std::string& target, bool with_token) {
    auto conn = ConnectTls();
    if (!conn) return HttpMessage{};
    std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (with_token) request += std::string("Authorization: Bearer ") + kOperatorToken + "\r\n";
    request += "Connection: close\r\n\r\n";
    EXPECT_TRUE(conn->Send(request));
    return ReadResponse(*conn);
  }

  struct CtlResult {
    int status = -1;
    std::string out, err;
  };
  CtlResult Ctl(const std::vector<std::string>& args) {
    ProcessOptions po;
    po.argv = {TidegateBinary(), "ctl", "--token-file",
               dir_.Write("ops.token", std::string(kOperatorToken) + "\n")};
    po.argv.insert(po.argv.end(), args.begin(), args.end());
    po.log_dir = dir_.path();
    po.name = "ctl" + std::to_string(++ctl_runs_);
    std::string error;
    CtlResult result;
    auto proc = Process::Start(po, &error);
    if (!proc) {
      result.err = error;
      return result;
    }
    result.status = proc->WaitExit(std::chrono::seconds(20)).value_or(-1);
    result.out = proc->Stdout();
    result.err = proc->Stderr();
    return result;
  }

  std::string HttpsUrl() const { return "https://127.0.0.1:" + std::to_string(admin_port_); }

  TempDir dir_;
  std::unique_ptr<ScriptedOrigin> origin_;
  std::unique_ptr<TidegateProcess> tidegate_;
  uint16_t admin_port_ = 0;
  int ctl_runs_ = 0;
};

TEST_F(AdminTlsTest, AnswersOverTlsWithTheConfiguredCertificate) {
  auto conn = ConnectTls();
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(conn->peer_common_name(), "tidegate-admin-admin");
  EXPECT_GE(conn->version(), TLS1_2_VERSION);
  conn.reset();

  HttpMessage state = GetOverTls("/v1/state", /*with_token=*/true);
  ASSERT_TRUE(state.ok) << state.error;
  EXPECT_EQ(state.status, 200) << state.body;
  Json json = Json::parse(state.body, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(json.is_discarded()) << state.body;
  EXPECT_TRUE(json.contains("version"));

  // Authentication still applies over TLS.
  HttpMessage anonymous = GetOverTls("/v1/state", /*with_token=*/false);
  ASSERT_TRUE(anonymous.ok) << anonymous.error;
  EXPECT_EQ(anonymous.status, 401);
}

TEST_F(AdminTlsTest, PlainHttpOnTheTlsPortGetsNoHttpAnswer) {
  auto conn = ConnectOrFail(admin_port_);
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Send(std::string("GET /v1/state HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                     "Authorization: Bearer ") +
                         kOperatorToken + "\r\nConnection: close\r\n\r\n"));
  ReadStatus status = conn->ReadUntilClose(std::chrono::seconds(10));
  EXPECT_TRUE(status == ReadStatus::kClosed || status == ReadStatus::kReset)
      << ToString(status) << "; the server kept a plain connection open";
  EXPECT_EQ(conn->buffer().find("HTTP/"), std::string::npos)
      << "plain HTTP was answered: " << conn->buffer();
  EXPECT_EQ(conn->buffer().find("\"version\""), std::string::npos);

  // The listener is still healthy afterwards.
  HttpMessage state = GetOverTls("/v1/state", /*with_token=*/true);
  ASSERT_TRUE(state.ok) << state.error;
  EXPECT_EQ(state.status, 200);
}

TEST_F(AdminTlsTest, CtlTalksHttpsWithCacertAndRefusesAnUntrustedServer) {
  std::string ca = dir_.File("admin.pem");
  CtlResult set = Ctl({"--admin", HttpsUrl(), "--cacert", ca, "--json", "banner", "set",
                       "--message", "Admin over TLS"});
  EXPECT_EQ(set.status, 0) << set.err;
  EXPECT_NE(set.out.find("\"applied\":true"), std::string::npos) << set.out;

  CtlResult state = Ctl({"--admin", HttpsUrl(), "--cacert", ca, "state"});
  EXPECT_EQ(state.status, 0) << state.err;
  EXPECT_NE(state.out.find("Admin over TLS"), std::string::npos) << state.out;

  // The same name through DNS: the certificate also names localhost.
  CtlResult by_name = Ctl({"--admin", "https://localhost:" + std::to_string(admin_port_),
                           "--cacert", ca, "--json", "state"});
  EXPECT_EQ(by_name.status, 0) << by_name.err;

  // Without --cacert only the system CAs are trusted: refused, clearly.
  CtlResult untrusted = Ctl({"--admin", HttpsUrl(), "state"});
  EXPECT_EQ(untrusted.status, 1);
  EXPECT_NE(untrusted.err.find("TLS"), std::string::npos) << untrusted.err;

  // http:// to the HTTPS listener fails instead of hanging or succeeding.
  CtlResult plain = Ctl({"--admin", "http://127.0.0.1:" + std::to_string(admin_port_), "state"});
  EXPECT_EQ(plain.status, 1) << plain.out;
}

TEST_F(AdminTlsTest, SighupPicksUpARenewedCertificate) {
  auto before = ConnectTls();
  ASSERT_NE(before, nullptr);
  std::string old_fingerprint = before->peer_fingerprint();
  before.reset();

  std::string error;
  ASSERT_TRUE(MakeAdminCertificate(dir_, "renewed", &error)) << error;
  ASSERT_EQ(std::rename(dir_.File("renewed.key").c_str(), dir_.File("admin.key").c_str()), 0);
  ASSERT_EQ(std::rename(dir_.File("renewed.pem").c_str(), dir_.File("admin.pem").c_str()), 0);
  ASSERT_TRUE(tidegate_->Reload());

  // The reload is asynchronous: poll (bounded) until a new connection sees
  // the renewed certificate.
  std::string fingerprint = old_fingerprint;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (fingerprint == old_fingerprint && std::chrono::steady_clock::now() < deadline) {
    auto conn = ConnectTls();
    if (!conn) break;
    fingerprint = conn->peer_fingerprint();
  }
  EXPECT_NE(fingerprint, old_fingerprint) << "renewed certificate not served after SIGHUP";
  CtlResult state =
      Ctl({"--admin", HttpsUrl(), "--cacert", dir_.File("admin.pem"), "--json", "state"});
  EXPECT_EQ(state.status, 0) << state.err;
}

TEST(AdminTlsStartTest, AMismatchedKeyStopsTheStart) {
  TempDir dir;
  std::string error;
  ASSERT_TRUE(MakeAdminCertificate(dir, "one", &error)) << error;
  ASSERT_TRUE(MakeAdminCertificate(dir, "two", &error)) << error;
  ScriptedOrigin origin(ServeOkForever());
  TidegateOptions options;
  options.config = Config(origin.port(), "${DIR}/one.pem", "${DIR}/two.key");
  options.ready_timeout = std::chrono::seconds(10);
  auto tg = TidegateProcess::Start(dir, options, &error);
  EXPECT_EQ(tg, nullptr) << "tidegate started with a key that does not match its certificate";
  // Found by the checks start-up shares with --check (app/config_checks.h),
  // at the key's place.
  EXPECT_NE(error.find("tidegate.toml:"), std::string::npos) << error;
  EXPECT_NE(error.find(" admin.tls.cert: tls key"), std::string::npos) << error;
}

}  // namespace
}  // namespace tidegate::itest
