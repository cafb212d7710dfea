// Server-side TLS for the shop's TLS listeners: an immutable set of
// certificates with SNI selection, built once per configuration.
//
// Contract:
// * Load() reads every certificate chain and private key of a TlsConfig and
//   builds one OpenSSL SSL_CTX per certificate, all configured alike:
//   TLS 1.2 and 1.3 only, server cipher preference, AEAD/ECDHE ciphers only
//   for TLS 1.2 (OpenSSL's TLS 1.3 suites), ALPN "http/1.1" only (a client
//   offering only other protocols gets no ALPN answer, as with nginx),
//   session tickets and a server session cache on, no compression, no
//   renegotiation, encrypted keys refused (never prompts on a terminal).
// * SNI: during the handshake the certificate whose subjectAltName DNS names
//   (or, without any, the subject CN) match the client's server name is chosen
//   (X509_check_host: case-insensitive, "*.x.example" matches exactly one
//   label). No SNI, or no match → the first certificate of the config.
//   Certificates are tried in config order; the first match wins.
// * Immutable after Load(); safe to share between threads.
// * Lifetime: every SSL returned by NewServerSsl() holds its own references to
//   what its handshake needs, so a TlsContext may be destroyed (e.g. replaced
//   on SIGHUP) while connections made from it are still open or handshaking.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/ssl.h>

#include "config/config.h"

namespace tidegate::proxy {

struct TlsSniTable;  // tls_context.cc

// RAII owner of one SSL_CTX reference.
struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;

// RAII owner of one SSL (for callers that hold an SSL before handing it to a
// bufferevent; release() it when BEV_OPT_CLOSE_ON_FREE takes over).
struct SslDeleter {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using SslPtr = std::unique_ptr<SSL, SslDeleter>;

class TlsContext {
 public:
  // Loads every certificate chain/key of `tls` (paths are absolute or
  // relative to the working directory). Returns nullptr and sets *error on
  // failure; the message names the file and carries OpenSSL's reason, e.g.
  // "tls key 'shop.key' does not match certificate 'shop.pem': ... key values
  // mismatch". `tls.certificates` must not be empty. Call on the control
  // thread (reads files).
  static std::shared_ptr<const TlsContext> Load(const config::TlsConfig& tls, std::string* error);

  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A new server-side SSL for one accepted connection, or nullptr when
  // OpenSSL is out of memory. Thread-safe (any worker). The caller owns it:
  // pass it to bufferevent_openssl_socket_new(base, fd, ssl,
  // BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE | ...), which then frees
  // it with the bufferevent.
  SSL* NewServerSsl() const;

  // Number of certificates loaded (>= 1).
  size_t certificate_count() const { return contexts_.size(); }

  // Index (in config order) of the certificate the SNI rule picks for
  // `server_name` ("" = no SNI). Exposed for tests and diagnostics.
  size_t SelectCertificate(std::string_view server_name) const;

 private:
  TlsContext() = default;

  // contexts_[i] serves certificates[i]; contexts_[0] is the default one that
  // NewServerSsl() starts every connection with.
  std::vector<SslCtxPtr> contexts_;
  // Certificates and contexts for SNI selection; owned by contexts_[0]
  // (OpenSSL ex_data), so it outlives this object while SSLs still use it.
  const TlsSniTable* sni_table_ = nullptr;
};

}  // namespace tidegate::proxy
