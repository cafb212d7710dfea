#include "proxy/tls_context.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cstring>

namespace tidegate::proxy {

// What the SNI callback needs. It hangs off the default SSL_CTX as ex_data,
// so it lives exactly as long as that SSL_CTX, which every SSL made by
// NewServerSsl() references: a handshake never sees it freed, even when the
// TlsContext that built it is gone.
struct TlsSniTable {
  // certificates[i] is the leaf certificate of contexts[i] (own references).
  std::vector<X509*> certificates;
  // contexts[i] for i >= 1 (own references); contexts[0] is the SSL_CTX this
  // table hangs off, held without a reference to avoid a cycle.
  std::vector<SSL_CTX*> contexts;

  size_t Select(std::string_view server_name) const {
    if (server_name.empty()) return 0;
    for (size_t i = 0; i < certificates.size(); ++i) {
      if (X509_check_host(certificates[i], server_name.data(), server_name.size(),
                          X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, nullptr) == 1) {
        return i;
      }
    }
    return 0;
  }
};

namespace {

// TLS 1.2 suites: ECDHE key exchange and AEAD only (Mozilla "intermediate").
// TLS 1.3 keeps OpenSSL's default suites, which are all modern.
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// ALPN wire format: length-prefixed protocol names.
constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

constexpr unsigned char kSessionIdContext[] = "tidegate";

void FreeSniTable(void* /*parent*/, void* ptr, CRYPTO_EX_DATA* /*ad*/, int /*idx*/, long /*argl*/,
                  void* /*argp*/) {
  auto* table = static_cast<TlsSniTable*>(ptr);
  if (table == nullptr) return;
  for (X509* cert : table->certificates) X509_free(cert);
  for (size_t i = 1; i < table->contexts.size(); ++i) SSL_CTX_free(table->contexts[i]);
  delete table;
}

// OpenSSL's ex_data index for SniTable, registered once per process (an
// OpenSSL registry entry, not tidegate state).
int SniTableIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, &FreeSniTable);
  return index;
}

int OnServerName(SSL* ssl, int* /*alert*/, void* /*arg*/) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr) return SSL_TLSEXT_ERR_OK;
  auto* table =
      static_cast<const TlsSniTable*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), SniTableIndex()));
  if (table == nullptr) return SSL_TLSEXT_ERR_OK;  // already switched (never happens twice)
  size_t index = table->Select(name);
  if (index != 0 && SSL_set_SSL_CTX(ssl, table->contexts[index]) == nullptr) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  return SSL_TLSEXT_ERR_OK;
}

// Chooses "http/1.1" when the client offers it. A client offering only other
// protocols gets no ALPN answer (like nginx) rather than a fatal alert.
int OnAlpnSelect(SSL* /*ssl*/, const unsigned char** out, unsigned char* outlen,
                 const unsigned char* in, unsigned int inlen, void* /*arg*/) {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kAlpnHttp11, sizeof(kAlpnHttp11), in, inlen) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

// Never prompt for a pass phrase: an encrypted key is a configuration error.
int RefusePassword(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return 0; }

// Drains OpenSSL's thread-local error queue into one readable string.
std::string TakeOpenSslErrors() {
  std::string out;
  char buf[256];
  while (unsigned long code = ERR_get_error()) {
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

// A new SSL_CTX with tidegate's server policy, without certificates.
SslCtxPtr NewPolicyContext(std::string* error) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) {
    *error = "tls: cannot create SSL_CTX: " + TakeOpenSslErrors();
    return nullptr;
  }
  SSL_CTX* c = ctx.get();
  bool ok =
      SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) == 1 &&
      SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION) == 1 &&
      SSL_CTX_set_cipher_list(c, kTls12Ciphers) == 1 &&
      SSL_CTX_set_session_id_context(c, kSessionIdContext, sizeof(kSessionIdContext) - 1) == 1;
  if (!ok) {
    *error = "tls: cannot configure SSL_CTX: " + TakeOpenSslErrors();
    return nullptr;
  }
  // Tickets stay on (no SSL_OP_NO_TICKET); renegotiation and compression off.
  SSL_CTX_set_options(c, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA |
                             SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_SERVER);
  // Idle keep-alive connections give their read/write buffers back.
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_alpn_select_cb(c, &OnAlpnSelect, nullptr);
  SSL_CTX_set_default_passwd_cb(c, &RefusePassword);
  return ctx;
}

bool LoadCertificate(SSL_CTX* ctx, const config::TlsCertificate& cert, std::string* error) {
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.cert_file.c_str()) != 1) {
    *error = "tls certificate '" + cert.cert_file +
             "': cannot load certificate chain: " + TakeOpenSslErrors();
    return false;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, cert.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    *error = "tls key '" + cert.key_file + "' (for certificate '" + cert.cert_file +
             "'): cannot load private key: " + TakeOpenSslErrors();
    return false;
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    *error = "tls key '" + cert.key_file + "' does not match certificate '" + cert.cert_file +
             "': " + TakeOpenSslErrors();
    return false;
  }
  return true;
}

}  // namespace

std::shared_ptr<const TlsContext> TlsContext::Load(const config::TlsConfig& tls,
                                                   std::string* error) {
  if (tls.certificates.empty()) {
    *error = "tls: no certificates configured";
    return nullptr;
  }
  std::shared_ptr<TlsContext> result(new TlsContext());
  auto table = std::make_unique<TlsSniTable>();
  for (const config::TlsCertificate& cert : tls.certificates) {
    SslCtxPtr ctx = NewPolicyContext(error);
    if (!ctx) return nullptr;
    if (!LoadCertificate(ctx.get(), cert, error)) return nullptr;
    result->contexts_.push_back(std::move(ctx));
  }

  // Build the SNI table; it takes its own references.
  for (size_t i = 0; i < result->contexts_.size(); ++i) {
    SSL_CTX* ctx = result->contexts_[i].get();
    X509* leaf = SSL_CTX_get0_certificate(ctx);
    X509_up_ref(leaf);
    table->certificates.push_back(leaf);
    if (i == 0) {
      table->contexts.push_back(ctx);  // no reference: the table hangs off it
    } else {
      SSL_CTX_up_ref(ctx);
      table->contexts.push_back(ctx);
    }
  }
  SSL_CTX* default_ctx = result->contexts_[0].get();
  if (SSL_CTX_set_ex_data(default_ctx, SniTableIndex(), table.get()) != 1) {
    FreeSniTable(nullptr, table.release(), nullptr, 0, 0, nullptr);
    *error = "tls: cannot attach SNI table: " + TakeOpenSslErrors();
    return nullptr;
  }
  result->sni_table_ = table.release();  // now owned by default_ctx
  SSL_CTX_set_tlsext_servername_callback(default_ctx, &OnServerName);
  return result;
}

TlsContext::~TlsContext() = default;

SSL* TlsContext::NewServerSsl() const { return SSL_new(contexts_[0].get()); }

size_t TlsContext::SelectCertificate(std::string_view server_name) const {
  return sni_table_->Select(server_name);
}

}  // namespace tidegate::proxy
