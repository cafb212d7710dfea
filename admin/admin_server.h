// The admin listener: libevent's evhttp on the control thread's event_base,
// feeding AdminApi (admin/admin_api.h). evhttp is fine here: this is not the
// proxy path, the admin endpoint serves a handful of operators.
//
// Contract:
// * Start(), Reconfigure() and the destructor run on the control thread, the
//   thread that runs `control_base`; requests are handled on that thread.
//   `control_base` must outlive the server. Destroy the server before the
//   store, audit log and metrics source it was given (not owned).
// * Listening: `[admin].listen` (an IP literal and port — port 0 picks a
//   free port, see port() — or "unix:/path"). Start() refuses a non-loopback
//   IP address when no admin token is configured: an open admin endpoint
//   reachable from the network is never a default.
// * Limits: request bodies over AdminApiOptions::max_body_bytes (64 KiB) get a
//   JSON 413; bodies over `hard_body_limit` are cut off by evhttp itself with
//   its own 413 (not JSON). Header block limited to 16 KiB; idle connections
//   closed after 30 s; a request whose head and body take longer than
//   AdminServerOptions::request_deadline from its first byte is closed
//   without an answer (admin/request_deadline.h).
// * TLS: with `[admin.tls]` (config::AdminConfig::tls) the listener speaks
//   HTTPS only: Start() loads the certificate and key through
//   proxy::TlsContext (TLS 1.2/1.3, the shop listeners' policy) and refuses
//   to start ("admin: tls: …") when they do not load or do not match. A
//   plain-HTTP client on that port gets no HTTP answer (its bytes fail the
//   handshake and the connection is closed). AdminServerOptions::tls, when
//   set, takes precedence (a caller-built SSL_CTX, used by unit tests).
#pragma once

#include <event2/event.h>
#include <event2/http.h>
#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "admin/admin_api.h"
#include "admin/request_deadline.h"
#include "config/config.h"
#include "proxy/tls_context.h"

namespace tidegate::admin {

struct AdminServerOptions {
  AdminApiOptions api;
  // Optional TLS: when set, the listener speaks HTTPS only, with this
  // context (certificates, protocol policy — e.g. the SSL_CTX of a
  // proxy::TlsContext built from an [admin.tls] section). Borrowed: it must
  // outlive the server. nullptr = plain HTTP.
  SSL_CTX* tls = nullptr;
  // A listening socket handed over by the previous process (binary
  // upgrade) for [admin].listen: served as is, nothing is bound (a unix
  // socket file is left in place). Ownership passes to Start(). -1 = bind.
  int listen_fd = -1;
  size_t hard_body_limit = 1024 * 1024;
  int timeout_seconds = 30;
  // A request's head and body must arrive within this from its first byte
  // (admin/request_deadline.h); tidegate passes [server].header_timeout.
  std::chrono::milliseconds request_deadline{10'000};
};

// True for 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104 and unix sockets.
bool IsLoopbackListen(const config::Address& address);
bool IsLoopbackPeer(std::string_view ip);

class AdminServer {
 public:
  // nullptr and *error set ("admin: …") when the address cannot be bound or
  // is refused by the loopback rule above.
  static std::unique_ptr<AdminServer> Start(event_base* control_base,
                                            const config::AdminConfig& admin, AdminApi::Deps deps,
                                            AdminServerOptions options, std::string* error);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // SIGHUP with a new [admin] section: new tokens apply at once. A changed
  // `listen` is not re-bound (it needs a restart): false + *error then, and
  // the tokens are still updated. Also refuses (false, nothing changed) to
  // drop every token while listening on a non-loopback address.
  // [admin.tls]: the certificate and key are read again (renewed files apply
  // to new connections; open ones keep theirs); when they do not load, the
  // old ones stay and false + *error. Adding or removing [admin.tls] needs a
  // restart (false + *error; the listener keeps its current scheme).
  bool Reconfigure(const config::AdminConfig& admin, std::string* error);

  // The admin request deadline (AdminServerOptions::request_deadline) from
  // now on, for requests in progress too ([server].header_timeout reloaded).
  void SetRequestDeadline(std::chrono::milliseconds deadline) { deadline_->SetDeadline(deadline); }

  uint16_t port() const { return port_; }       // 0 for unix sockets
  int listen_fd() const { return listen_fd_; }  // borrowed; for a binary upgrade
  AdminApi& api() { return *api_; }

 private:
  AdminServer() = default;
  static void OnRequest(evhttp_request* req, void* arg);
  static bufferevent* MakeBufferevent(event_base* base, void* arg);
  void Handle(evhttp_request* req);
  // Loads [admin.tls] into tls_context_; false + *error ("admin: tls: …").
  bool LoadTls(const config::TlsCertificate& certificate, std::string* error);

  evhttp* http_ = nullptr;
  config::Address listen_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  AdminServerOptions options_;
  // From [admin.tls]; replaced on SIGHUP (connections keep what their SSL
  // references, see proxy/tls_context.h). Null when plain or options_.tls.
  std::shared_ptr<const proxy::TlsContext> tls_context_;
  bool started_with_config_tls_ = false;
  std::unique_ptr<AdminApi> api_;
  std::unique_ptr<RequestDeadline> deadline_;
};

}  // namespace tidegate::admin
