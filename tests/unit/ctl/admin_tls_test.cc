// The admin listener with TLS (AdminServerOptions::tls) and `tidegate ctl`
// over https with certificate verification.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <sstream>

#include "ctl/ctl.h"
#include "tests/unit/ctl/admin_server_harness.h"

namespace tidegate::ctl {
namespace {

// A self-signed certificate for IP 127.0.0.1, generated in memory.
struct TestCert {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  TestCert() {
    key = EVP_EC_gen("P-256");
    cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("tidegate-admin-test"), -1,
                               -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
    X509_add_ext(cert, san, -1);
    X509_EXTENSION_free(san);
    X509_EXTENSION* bc =
        X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(cert, bc, -1);
    X509_EXTENSION_free(bc);
    X509_sign(cert, key, EVP_sha256());
  }
  ~TestCert() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  void WritePem(const std::string& path) const {
    FILE* f = fopen(path.c_str(), "w");
    PEM_write_X509(f, cert);
    fclose(f);
  }
};

struct ServerCtx {
  SSL_CTX* ctx;
  explicit ServerCtx(const TestCert& c) {
    ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_use_certificate(ctx, c.cert);
    SSL_CTX_use_PrivateKey(ctx, c.key);
  }
  ~ServerCtx() { SSL_CTX_free(ctx); }
};

TEST(AdminTlsTest, CtlOverHttpsVerifiesTheServer) {
  TestCert cert;
  ASSERT_NE(cert.key, nullptr);
  ServerCtx server_ctx(cert);
  ASSERT_EQ(SSL_CTX_check_private_key(server_ctx.ctx), 1);
  admin::AdminServerOptions options;
  options.tls = server_ctx.ctx;
  testing::AdminServerHarness h(options);
  ASSERT_TRUE(h.started()) << h.start_error();
  std::string https = "https" + h.url().substr(4);
  std::string ca = h.dir() + "/ca.pem";
  cert.WritePem(ca);

  CtlEnvironment env;
  env.token = admin::testing::kOperatorToken;
  std::ostringstream out, err;
  int code = RunCtlArgs(
      {"--admin", https, "--cacert", ca, "--json", "banner", "set", "--message", "over TLS"}, env,
      out, err);
  EXPECT_EQ(code, 0) << err.str();
  EXPECT_NE(out.str().find("\"applied\":true"), std::string::npos) << out.str();

  // Not trusted (system CAs only): refused, clearly.
  std::ostringstream out2, err2;
  code = RunCtlArgs({"--admin", https, "state"}, env, out2, err2);
  EXPECT_EQ(code, 1);
  EXPECT_NE(err2.str().find("cannot establish TLS"), std::string::npos) << err2.str();

  // Plain HTTP to the TLS listener gets no answer.
  std::ostringstream out3, err3;
  code = RunCtlArgs({"--admin", h.url(), "state"}, env, out3, err3);
  EXPECT_EQ(code, 1);
}

TEST(AdminTlsTest, CtlRefusesACertificateForAnotherNameAndAMissingCaFile) {
  TestCert cert;  // names IP 127.0.0.1 only
  ServerCtx server_ctx(cert);
  admin::AdminServerOptions options;
  options.tls = server_ctx.ctx;
  testing::AdminServerHarness h(options);
  ASSERT_TRUE(h.started()) << h.start_error();
  std::string port = h.url().substr(h.url().rfind(':') + 1);
  std::string ca = h.dir() + "/ca.pem";
  cert.WritePem(ca);
  CtlEnvironment env;
  env.token = admin::testing::kOperatorToken;

  // Trusted certificate, but "localhost" is not a name it carries.
  std::ostringstream out, err;
  int code =
      RunCtlArgs({"--admin", "https://localhost:" + port, "--cacert", ca, "state"}, env, out, err);
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.str().find("cannot establish TLS with the admin endpoint at https://localhost:" +
                           port + ": TLS: "),
            std::string::npos)
      << err.str();

  std::ostringstream out2, err2;
  code = RunCtlArgs(
      {"--admin", "https" + h.url().substr(4), "--cacert", h.dir() + "/missing.pem", "state"}, env,
      out2, err2);
  EXPECT_EQ(code, 1);
  EXPECT_NE(err2.str().find("cannot establish TLS"), std::string::npos) << err2.str();
}

}  // namespace
}  // namespace tidegate::ctl
