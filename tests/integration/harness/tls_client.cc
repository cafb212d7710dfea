#include "tests/integration/harness/tls_client.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>

#include <chrono>
#include <cstdio>

namespace tidegate::itest {
namespace {

std::string OpenSslErrors() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no OpenSSL error queued" : out;
}

bool WaitFd(int fd, short events, int timeout_ms) {
  pollfd pfd{fd, events, 0};
  return poll(&pfd, 1, timeout_ms) > 0;
}

}  // namespace

std::unique_ptr<TlsConnection> TlsConnection::Connect(uint16_t port,
                                                      const TlsClientOptions& options,
                                                      std::string* error) {
  auto raw = RawConnection::Connect(port, error);
  if (!raw) return nullptr;
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    *error = "SSL_CTX_new: " + OpenSslErrors();
    return nullptr;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  if (options.min_version != 0 && options.min_version < TLS1_2_VERSION) {
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
  }
  if (options.min_version != 0) SSL_CTX_set_min_proto_version(ctx, options.min_version);
  if (options.max_version != 0) SSL_CTX_set_max_proto_version(ctx, options.max_version);
  if (!options.alpn.empty()) {
    std::string wire;
    for (const std::string& p : options.alpn) {
      wire += static_cast<char>(p.size());
      wire += p;
    }
    SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned>(wire.size()));
  }
  SSL* ssl = SSL_new(ctx);
  // Take the descriptor over from the RawConnection.
  int fd = raw->fd();
  int dup_fd = dup(fd);
  raw.reset();
  std::unique_ptr<TlsConnection> conn(new TlsConnection(dup_fd, ctx, ssl));
  SSL_set_fd(ssl, dup_fd);
  if (!options.sni.empty()) SSL_set_tlsext_host_name(ssl, options.sni.c_str());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    int r = SSL_connect(ssl);
    if (r == 1) break;
    int err = SSL_get_error(ssl, r);
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now())
                                    .count());
    if ((err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) && left > 0) {
      WaitFd(dup_fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, left);
      continue;
    }
    *error = "TLS handshake failed (SSL_get_error " + std::to_string(err) +
             (err == SSL_ERROR_SYSCALL ? ", errno " + std::to_string(errno) : "") +
             "): " + OpenSslErrors();
    return nullptr;
  }
  return conn;
}

TlsConnection::~TlsConnection() {
  if (ssl_ != nullptr) {
    if (fd_ >= 0) SSL_shutdown(ssl_);
    SSL_free(ssl_);
  }
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
}

int TlsConnection::version() const { return SSL_version(ssl_); }

std::string TlsConnection::alpn() const {
  const unsigned char* data = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(ssl_, &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

std::string TlsConnection::peer_common_name() const {
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (cert == nullptr) return "";
  char buf[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof(buf));
  X509_free(cert);
  return buf;
}

std::vector<std::string> TlsConnection::peer_dns_names() const {
  std::vector<std::string> names;
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (cert == nullptr) return names;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
      if (name->type == GEN_DNS) {
        const unsigned char* s = ASN1_STRING_get0_data(name->d.dNSName);
        names.emplace_back(reinterpret_cast<const char*>(s), ASN1_STRING_length(name->d.dNSName));
      }
    }
    GENERAL_NAMES_free(sans);
  }
  X509_free(cert);
  return names;
}

std::string TlsConnection::peer_fingerprint() const {
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (cert == nullptr) return "";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  X509_digest(cert, EVP_sha256(), md, &len);
  X509_free(cert);
  std::string hex;
  char b[3];
  for (unsigned i = 0; i < len; ++i) {
    snprintf(b, sizeof(b), "%02x", md[i]);
    hex += b;
  }
  return hex;
}

Connection::IoResult TlsConnection::RecvSome(char* data, size_t len, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int r = SSL_read(ssl_, data, static_cast<int>(len));
    if (r > 0) return {ReadStatus::kData, static_cast<size_t>(r)};
    int err = SSL_get_error(ssl_, r);
    if (err == SSL_ERROR_ZERO_RETURN) return {ReadStatus::kClosed};
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      deadline - std::chrono::steady_clock::now())
                                      .count());
      if (left <= 0) return {ReadStatus::kTimeout};
      WaitFd(fd_, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, left);
      continue;
    }
    if (err == SSL_ERROR_SYSCALL) {
      ERR_clear_error();
      if (errno == ECONNRESET) return {ReadStatus::kReset};
      return {ReadStatus::kClosed};  // EOF without close_notify
    }
    ERR_clear_error();
    return {ReadStatus::kError};
  }
}

long TlsConnection::SendSome(const char* data, size_t len) {
  int r = SSL_write(ssl_, data, static_cast<int>(len));
  if (r > 0) return r;
  int err = SSL_get_error(ssl_, r);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return 0;
  ERR_clear_error();
  return -1;
}

}  // namespace tidegate::itest
