// A TLS client connection (OpenSSL) for tests: SNI, version bounds, ALPN,
// and the peer certificate's names, on top of Connection's byte-exact
// reading.
//
// Contract:
// * Connect() does the TCP connect and the full handshake (up to 5 s).
//   On failure it returns nullptr and *error carries OpenSSL's reason.
//   Certificates are not verified (tests use self-signed ones); tests
//   check the peer certificate's names themselves.
// * Version bounds are TLS1_x_VERSION constants (0 = library default). To
//   offer TLS 1.1 the client lowers its own security level to 0, so a
//   refusal really comes from the server.
// * One thread at a time; the destructor sends close_notify best-effort.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/integration/harness/connection.h"

namespace tidegate::itest {

struct TlsClientOptions {
  std::string sni;      // "" = no SNI extension
  int min_version = 0;  // e.g. TLS1_2_VERSION
  int max_version = 0;
  std::vector<std::string> alpn = {"http/1.1"};  // empty = no ALPN extension
};

class TlsConnection : public Connection {
 public:
  static std::unique_ptr<TlsConnection> Connect(uint16_t port, const TlsClientOptions& options,
                                                std::string* error);
  ~TlsConnection() override;

  int version() const;       // SSL_version(): TLS1_2_VERSION, TLS1_3_VERSION
  std::string alpn() const;  // negotiated protocol, "" if none
  std::string peer_common_name() const;
  std::vector<std::string> peer_dns_names() const;  // subjectAltName DNS entries
  std::string peer_fingerprint() const;             // SHA-256 of the DER certificate, hex

 protected:
  IoResult RecvSome(char* data, size_t len, int timeout_ms) override;
  long SendSome(const char* data, size_t len) override;

 private:
  TlsConnection(int fd, SSL_CTX* ctx, SSL* ssl) : Connection(fd), ctx_(ctx), ssl_(ssl) {}
  SSL_CTX* ctx_;
  SSL* ssl_;
};

}  // namespace tidegate::itest
