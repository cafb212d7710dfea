#include "proxy/tls_context.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tidegate::proxy {
namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

// A self-signed P-256 certificate with subject CN `cn` and, when `san` is not
// empty, a subjectAltName such as "DNS:shop.example".
X509Ptr MakeCertificate(EVP_PKEY* key, const std::string& cn, const std::string& san) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (!san.empty()) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
    if (ext == nullptr) return nullptr;
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key, EVP_sha256()) == 0) return nullptr;
  return cert;
}

bool WritePem(const std::string& path, X509* cert, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  bool ok = cert != nullptr
                ? PEM_write_X509(f, cert) == 1
                : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  std::fclose(f);
  return ok;
}

std::string PeerCommonName(SSL* client) {
  X509Ptr peer(SSL_get1_peer_certificate(client));
  if (!peer) return "<none>";
  char buf[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(peer.get()), NID_commonName, buf, sizeof(buf));
  return buf;
}

struct HandshakeResult {
  bool ok = false;
  std::string server_error;  // OpenSSL errors seen by the server side
};

// Drives a client and a server SSL over an in-memory BIO pair until both
// finish the handshake or one fails.
HandshakeResult Handshake(SSL* client, SSL* server) {
  BIO* client_bio = nullptr;
  BIO* server_bio = nullptr;
  BIO_new_bio_pair(&client_bio, 0, &server_bio, 0);
  SSL_set_bio(client, client_bio, client_bio);
  SSL_set_bio(server, server_bio, server_bio);
  SSL_set_connect_state(client);
  SSL_set_accept_state(server);
  HandshakeResult result;
  bool client_done = false, server_done = false;
  for (int round = 0; round < 100 && !(client_done && server_done); ++round) {
    if (!client_done) {
      ERR_clear_error();
      int rc = SSL_do_handshake(client);
      if (rc == 1) {
        client_done = true;
      } else {
        int err = SSL_get_error(client, rc);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) return result;
      }
    }
    if (!server_done) {
      ERR_clear_error();
      int rc = SSL_do_handshake(server);
      if (rc == 1) {
        server_done = true;
      } else {
        int err = SSL_get_error(server, rc);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
          char buf[256];
          while (unsigned long code = ERR_get_error()) {
            ERR_error_string_n(code, buf, sizeof(buf));
            result.server_error += buf;
            result.server_error += "; ";
          }
          return result;
        }
      }
    }
  }
  result.ok = client_done && server_done;
  return result;
}

struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};

class TlsContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "tidegate_tls_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    ASSERT_TRUE(AddCertificate("shop", "shop.example", "DNS:shop.example,DNS:www.shop.example"));
    ASSERT_TRUE(AddCertificate("other", "wildcard.other.example", "DNS:*.other.example"));
    ASSERT_TRUE(AddCertificate("cnonly", "cn-only.example", ""));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  bool AddCertificate(const std::string& stem, const std::string& cn, const std::string& san) {
    PkeyPtr key(EVP_EC_gen("P-256"));
    if (!key) return false;
    X509Ptr cert = MakeCertificate(key.get(), cn, san);
    if (!cert) return false;
    config::TlsCertificate files{dir_ + "/" + stem + ".pem", dir_ + "/" + stem + ".key"};
    if (!WritePem(files.cert_file, cert.get(), nullptr)) return false;
    if (!WritePem(files.key_file, nullptr, key.get())) return false;
    tls_.certificates.push_back(files);
    return true;
  }

  std::unique_ptr<SSL_CTX, SslCtxFree> NewClientCtx() {
    std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    return ctx;
  }

  // Handshakes with SNI `server_name` ("" = none); returns the CN the client saw.
  std::string CertificateFor(const TlsContext& tls, const std::string& server_name) {
    auto client_ctx = NewClientCtx();
    std::unique_ptr<SSL, SslFree> client(SSL_new(client_ctx.get()));
    if (!server_name.empty()) SSL_set_tlsext_host_name(client.get(), server_name.c_str());
    std::unique_ptr<SSL, SslFree> server(tls.NewServerSsl());
    HandshakeResult r = Handshake(client.get(), server.get());
    if (!r.ok) return "<handshake failed: " + r.server_error + ">";
    return PeerCommonName(client.get());
  }

  std::string dir_;
  config::TlsConfig tls_;
};

TEST_F(TlsContextTest, LoadsAllCertificates) {
  std::string error;
  auto tls = TlsContext::Load(tls_, &error);
  ASSERT_NE(tls, nullptr) << error;
  EXPECT_EQ(tls->certificate_count(), 3u);
}

TEST_F(TlsContextTest, SniSelectsMatchingCertificateElseFirst) {
  std::string error;
  auto tls = TlsContext::Load(tls_, &error);
  ASSERT_NE(tls, nullptr) << error;
  EXPECT_EQ(CertificateFor(*tls, "shop.example"), "shop.example");
  EXPECT_EQ(CertificateFor(*tls, "www.shop.example"), "shop.example");
  EXPECT_EQ(CertificateFor(*tls, "a.other.example"), "wildcard.other.example");
  EXPECT_EQ(CertificateFor(*tls, "A.Other.Example"), "wildcard.other.example");
  EXPECT_EQ(CertificateFor(*tls, "cn-only.example"), "cn-only.example");
  EXPECT_EQ(CertificateFor(*tls, "unknown.example"), "shop.example");
  EXPECT_EQ(CertificateFor(*tls, ""), "shop.example");
}

TEST_F(TlsContextTest, WildcardCoversExactlyOneLabel) {
  std::string error;
  auto tls = TlsContext::Load(tls_, &error);
  ASSERT_NE(tls, nullptr) << error;
  EXPECT_EQ(tls->SelectCertificate("a.other.example"), 1u);
  EXPECT_EQ(tls->SelectCertificate("other.example"), 0u);
  EXPECT_EQ(tls->SelectCertificate("a.b.other.example"), 0u);
  EXPECT_EQ(tls->SelectCertificate(""), 0u);
}

TEST_F(TlsContextTest, FirstCertificateIsTheDefaultWhateverItsName) {
  std::swap(tls_.certificates[0], tls_.certificates[1]);
  std::string error;
  auto tls = TlsContext::Load(tls_, &error);
  ASSERT_NE(tls, nullptr) << error;
  EXPECT_EQ(CertificateFor(*tls, "unknown.example"), "wildcard.other.example");
  EXPECT_EQ(CertificateFor(*tls, "shop.example"), "shop.example");
}

TEST_F(TlsContextTest, KeyNotMatchingCertificateIsAnErrorNamingTheFile) {
  tls_.certificates[0].key_file = tls_.certificates[1].key_file;
  std::string error;
  EXPECT_EQ(TlsContext::Load(tls_, &error), nullptr);
  EXPECT_NE(error.find(tls_.certificates[1].key_file), std::string::npos) << error;
  EXPECT_NE(error.find(tls_.certificates[0].cert_file), std::string::npos) << error;
  EXPECT_NE(error.find("mismatch"), std::string::npos) << error;
}

TEST_F(TlsContextTest, MissingFileIsAnErrorNamingTheFile) {
  tls_.certificates[1].cert_file = dir_ + "/missing.pem";
  std::string error;
  EXPECT_EQ(TlsContext::Load(tls_, &error), nullptr);
  EXPECT_NE(error.find(dir_ + "/missing.pem"), std::string::npos) << error;
  EXPECT_NE(error.find("No such file"), std::string::npos) << error;
}

TEST_F(TlsContextTest, GarbageKeyIsAnError) {
  FILE* f = std::fopen(tls_.certificates[0].key_file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("not a key\n", f);
  std::fclose(f);
  std::string error;
  EXPECT_EQ(TlsContext::Load(tls_, &error), nullptr);
  EXPECT_NE(error.find(tls_.certificates[0].key_file), std::string::npos) << error;
}

TEST_F(TlsContextTest, NoCertificatesIsAnError) {
  tls_.certificates.clear();
  std::string error;
  EXPECT_EQ(TlsContext::Load(tls_, &error), nullptr);
  EXPECT_FALSE(error.empty());
}

TEST_F(TlsContextTest, Tls11ClientIsRefusedAndTls12Accepted) {
  std::string error;
  auto tls = TlsContext::Load(tls_, &error);
  ASSERT_NE(tls, nullptr) << error;
  for (int version : {TLS1_1_VERSION, TLS1_2_VERSION}) {
    auto client_ctx = NewClientCtx();
    // Let the client itself offer old protocols (Debian's default level forbids them).
    SSL_CTX_set_security_level(client_ctx.get(), 0);
    ASSERT_EQ(SSL_CTX_set_cipher_list(client_ctx.get(), "DEFAULT:@SECLEVEL=0"), 1);
    SSL_CTX_set_min_proto_version(client_ctx.get(), TLS1_VERSION);
    SSL_CTX_set_max_proto_version(client_ctx.get(), version);
    std::unique_ptr<SSL, SslFree> client(SSL_new(client_ctx.get()));
    std::unique_ptr<SSL, SslFree> server(tls->NewServerSsl());
    HandshakeResult r = Handshake(client.get(), server.get());
    if (version == TLS1_1_VERSION) {
      EXPECT_FALSE(r.ok);
      EXPECT_NE(r.server_error.find("unsupported protocol"), std::string::npos) << r.server_error;
    } else {
      ASSERT_TRUE(r.ok) << r.server_error;
      EXPECT_EQ(SSL_version(server.get()), TLS1_2_VERSION);
      // Only ECDHE + AEAD suites for TLS 1.2.
      std::string cipher = SSL_get_cipher_name(server.get());
      EXPECT_EQ(cipher.rfind("ECDHE-", 0), 0u) << cipher;
    }
  }
}

TEST_F(TlsContextTest, DefaultClientGetsTls13) {
  std::string error;
  auto tls = TlsContext::Load(tls_, &error);
  ASSERT_NE(tls, nullptr) << error;
  auto client_ctx = NewClientCtx();
  std::unique_ptr<SSL, SslFree> client(SSL_new(client_ctx.get()));
  std::unique_ptr<SSL, SslFree> server(tls->NewServerSsl());
  ASSERT_TRUE(Handshake(client.get(), server.get()).ok);
  EXPECT_EQ(SSL_version(server.get()), TLS1_3_VERSION);
  EXPECT_EQ(SSL_get_current_compression(server.get()), nullptr);
}

TEST_F(TlsContextTest, AlpnNegotiatesHttp11Only) {
  std::string error;
  auto tls = TlsContext::Load(tls_, &error);
  ASSERT_NE(tls, nullptr) << error;
  struct Case {
    std::vector<unsigned char> offer;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'}, "http/1.1"},
      {{8, 'h', 't', 't', 'p', '/', '1', '.', '1'}, "http/1.1"},
      {{2, 'h', '2'}, ""},  // no common protocol: no ALPN answer, handshake goes on
  };
  for (const Case& c : cases) {
    auto client_ctx = NewClientCtx();
    std::unique_ptr<SSL, SslFree> client(SSL_new(client_ctx.get()));
    ASSERT_EQ(SSL_set_alpn_protos(client.get(), c.offer.data(), c.offer.size()), 0);
    std::unique_ptr<SSL, SslFree> server(tls->NewServerSsl());
    HandshakeResult r = Handshake(client.get(), server.get());
    ASSERT_TRUE(r.ok) << r.server_error;
    const unsigned char* selected = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(client.get(), &selected, &len);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(selected), len), c.expected);
  }
}

TEST_F(TlsContextTest, SessionTicketResumes) {
  std::string error;
  auto tls = TlsContext::Load(tls_, &error);
  ASSERT_NE(tls, nullptr) << error;
  auto client_ctx = NewClientCtx();
  SSL_CTX_set_max_proto_version(client_ctx.get(), TLS1_2_VERSION);  // ticket within handshake
  std::unique_ptr<SSL, SslFree> client(SSL_new(client_ctx.get()));
  SSL_set_tlsext_host_name(client.get(), "a.other.example");
  std::unique_ptr<SSL, SslFree> server(tls->NewServerSsl());
  ASSERT_TRUE(Handshake(client.get(), server.get()).ok);
  SSL_SESSION* session = SSL_get1_session(client.get());
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(SSL_SESSION_has_ticket(session), 1);

  std::unique_ptr<SSL, SslFree> client2(SSL_new(client_ctx.get()));
  SSL_set_tlsext_host_name(client2.get(), "a.other.example");
  SSL_set_session(client2.get(), session);
  SSL_SESSION_free(session);
  std::unique_ptr<SSL, SslFree> server2(tls->NewServerSsl());
  ASSERT_TRUE(Handshake(client2.get(), server2.get()).ok);
  EXPECT_EQ(SSL_session_reused(client2.get()), 1);
}

TEST_F(TlsContextTest, SslOutlivesTheContextThatMadeIt) {
  std::string error;
  auto tls = TlsContext::Load(tls_, &error);
  ASSERT_NE(tls, nullptr) << error;
  std::unique_ptr<SSL, SslFree> server(tls->NewServerSsl());
  tls.reset();  // e.g. replaced by a config reload mid-handshake
  auto client_ctx = NewClientCtx();
  std::unique_ptr<SSL, SslFree> client(SSL_new(client_ctx.get()));
  SSL_set_tlsext_host_name(client.get(), "a.other.example");
  HandshakeResult r = Handshake(client.get(), server.get());
  ASSERT_TRUE(r.ok) << r.server_error;
  EXPECT_EQ(PeerCommonName(client.get()), "wildcard.other.example");
}

// The way the proxy core uses it: bufferevent_openssl over a socket, the
// bufferevent owning (and freeing) the SSL.
TEST_F(TlsContextTest, ServesThroughBuffereventOpenssl) {
  std::string error;
  auto tls = TlsContext::Load(tls_, &error);
  ASSERT_NE(tls, nullptr) << error;
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  evutil_make_socket_nonblocking(fds[0]);
  evutil_make_socket_nonblocking(fds[1]);
  event_base* base = event_base_new();
  ASSERT_NE(base, nullptr);

  bufferevent* server = bufferevent_openssl_socket_new(
      base, fds[0], tls->NewServerSsl(), BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
  auto client_ctx = NewClientCtx();
  SSL* client_ssl = SSL_new(client_ctx.get());
  SSL_set_tlsext_host_name(client_ssl, "a.other.example");
  const unsigned char alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_set_alpn_protos(client_ssl, alpn, sizeof(alpn));
  bufferevent* client = bufferevent_openssl_socket_new(
      base, fds[1], client_ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
  ASSERT_NE(server, nullptr);
  ASSERT_NE(client, nullptr);

  struct State {
    event_base* base;
    std::string reply;
  } state{base, ""};
  // Server: echo what arrives, prefixed.
  bufferevent_setcb(
      server,
      [](bufferevent* bev, void*) {
        evbuffer* in = bufferevent_get_input(bev);
        std::string data(evbuffer_get_length(in), '\0');
        evbuffer_remove(in, data.data(), data.size());
        std::string reply = "pong:" + data;
        bufferevent_write(bev, reply.data(), reply.size());
      },
      nullptr, nullptr, nullptr);
  bufferevent_enable(server, EV_READ | EV_WRITE);
  // Client: read the reply, then stop.
  bufferevent_setcb(
      client,
      [](bufferevent* bev, void* arg) {
        auto* st = static_cast<State*>(arg);
        evbuffer* in = bufferevent_get_input(bev);
        size_t n = evbuffer_get_length(in);
        std::string data(n, '\0');
        evbuffer_remove(in, data.data(), n);
        st->reply += data;
        if (st->reply.size() >= 9) event_base_loopbreak(st->base);
      },
      nullptr,
      [](bufferevent*, short what, void* arg) {
        if (what & BEV_EVENT_CONNECTED) return;                // handshake done
        event_base_loopbreak(static_cast<State*>(arg)->base);  // error or EOF: stop, test fails
      },
      &state);
  bufferevent_enable(client, EV_READ | EV_WRITE);
  bufferevent_write(client, "ping", 4);
  // A safety net against a hang only; the assertions do not depend on time.
  timeval limit{20, 0};
  event_base_loopexit(base, &limit);
  event_base_dispatch(base);

  EXPECT_EQ(state.reply, "pong:ping");
  EXPECT_EQ(PeerCommonName(bufferevent_openssl_get_ssl(client)), "wildcard.other.example");
  const unsigned char* selected = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(bufferevent_openssl_get_ssl(server), &selected, &len);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(selected), len), "http/1.1");
  bufferevent_free(client);  // frees the SSLs and closes the sockets
  bufferevent_free(server);
  event_base_free(base);
}

}  // namespace
}  // namespace tidegate::proxy
