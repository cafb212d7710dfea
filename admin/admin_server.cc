#include "admin/admin_server.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <initializer_list>

#include "proxy/http_message.h"  // ReasonPhrase

namespace tidegate::admin {
namespace {

const char* MethodName(evhttp_cmd_type cmd) {
  switch (cmd) {
    case EVHTTP_REQ_GET:
      return "GET";
    case EVHTTP_REQ_POST:
      return "POST";
    case EVHTTP_REQ_HEAD:
      return "HEAD";
    case EVHTTP_REQ_PUT:
      return "PUT";
    case EVHTTP_REQ_DELETE:
      return "DELETE";
    case EVHTTP_REQ_OPTIONS:
      return "OPTIONS";
    case EVHTTP_REQ_TRACE:
      return "TRACE";
    case EVHTTP_REQ_CONNECT:
      return "CONNECT";
    case EVHTTP_REQ_PATCH:
      return "PATCH";
  }
  return "UNKNOWN";
}

// What makes a head evhttp accepted unusable here, or "": whitespace
// between a field name and its colon (RFC 9112 §5.1: "Host : evil" would be
// another field than Host), or a second Host or Authorization field (§3.2:
// which one is meant is ambiguous; evhttp would answer with the first).
std::string HeadProblem(evkeyvalq* headers) {
  for (evkeyval* h = headers->tqh_first; h != nullptr; h = h->next.tqe_next) {
    for (const char* c = h->key; *c != '\0'; ++c) {
      if (*c == ' ' || *c == '\t') {
        return "whitespace between a field name and its colon (RFC 9112 §5.1)";
      }
    }
  }
  for (const char* name : {"Host", "Authorization"}) {
    int seen = 0;
    for (evkeyval* h = headers->tqh_first; h != nullptr; h = h->next.tqe_next) {
      if (evutil_ascii_strcasecmp(h->key, name) == 0 && ++seen > 1) {
        return std::string("more than one ") + name +
               " field: which one is meant is ambiguous (RFC 9112 §3.2)";
      }
    }
  }
  return "";
}

std::optional<std::string> Header(evkeyvalq* headers, const char* name) {
  const char* v = evhttp_find_header(headers, name);
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

// Binds a unix stream socket at `path` (a stale socket file is replaced),
// created with mode 0600 (owner only) from the start.
int BindUnix(const std::string& path, std::string* error) {
  sockaddr_un sun{};
  if (path.size() >= sizeof(sun.sun_path)) {
    *error = "admin: unix socket path too long: " + path;
    return -1;
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("admin: socket: ") + std::strerror(errno);
    return -1;
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
  sun.sun_family = AF_UNIX;
  std::memcpy(sun.sun_path, path.data(), path.size());
  // Create the socket file with its final mode 0600: no window in which
  // another local user could connect before a chmod. The umask is
  // process-wide; this runs on the control thread at start-up only.
  mode_t old_umask = ::umask(0177);
  int bound = ::bind(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun);
  int bind_errno = errno;
  ::umask(old_umask);
  if (bound != 0 || ::listen(fd, 64) != 0) {
    if (bound != 0) errno = bind_errno;
    *error = "admin: cannot listen on unix:" + path + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

bool IsLoopbackPeer(std::string_view ip) {
  std::string text(ip);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return ip == "unix";
}

bool IsLoopbackListen(const config::Address& address) {
  if (!address.unix_path.empty()) return true;
  return IsLoopbackPeer(address.host);
}

std::unique_ptr<AdminServer> AdminServer::Start(event_base* control_base,
                                                const config::AdminConfig& admin,
                                                AdminApi::Deps deps, AdminServerOptions options,
                                                std::string* error) {
  if (!IsLoopbackListen(admin.listen) && admin.tokens.empty()) {
    *error = "admin: refusing to listen on " + admin.listen.text +
             " (not a loopback address) without [admin].tokens";
    return nullptr;
  }
  std::unique_ptr<AdminServer> server(new AdminServer());
  server->listen_ = admin.listen;
  server->options_ = options;
  server->http_ = evhttp_new(control_base);
  if (server->http_ == nullptr) {
    *error = "admin: evhttp_new failed";
    return nullptr;
  }
  evhttp* http = server->http_;
  // Every method reaches AdminApi, which answers 405 with a JSON body.
  evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                       EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
                                       EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
  evhttp_set_max_body_size(http, static_cast<ev_ssize_t>(options.hard_body_limit));
  evhttp_set_max_headers_size(http, 16 * 1024);
  evhttp_set_timeout(http, options.timeout_seconds);
  evhttp_set_gencb(http, &AdminServer::OnRequest, server.get());
  if (options.tls == nullptr && admin.tls) {
    if (!server->LoadTls(*admin.tls, error)) return nullptr;
    server->started_with_config_tls_ = true;
  }
  server->deadline_ = RequestDeadline::Start(control_base, options.request_deadline);
  if (!server->deadline_) {
    *error = "admin: cannot make the request deadline's timer";
    return nullptr;
  }
  evhttp_set_bevcb(http, &AdminServer::MakeBufferevent, server.get());

  int fd = options.listen_fd;
  if (fd >= 0) {
    evutil_make_socket_nonblocking(fd);
    if (evhttp_accept_socket_with_handle(http, fd) == nullptr) {
      ::close(fd);
      *error = "admin: cannot accept on the handed-over socket of " + admin.listen.text;
      return nullptr;
    }
  } else if (!admin.listen.unix_path.empty()) {
    fd = BindUnix(admin.listen.unix_path, error);
    if (fd < 0) return nullptr;
    if (evhttp_accept_socket_with_handle(http, fd) == nullptr) {
      ::close(fd);
      *error = "admin: cannot accept on unix:" + admin.listen.unix_path;
      return nullptr;
    }
  } else {
    evhttp_bound_socket* bound =
        evhttp_bind_socket_with_handle(http, admin.listen.host.c_str(), admin.listen.port);
    if (bound == nullptr) {
      *error = "admin: cannot listen on " + admin.listen.text + ": " + std::strerror(errno);
      return nullptr;
    }
    fd = evhttp_bound_socket_get_fd(bound);
  }
  server->listen_fd_ = fd;
  if (admin.listen.unix_path.empty()) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
      server->port_ =
          ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                         : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    }
  }
  server->api_ = std::make_unique<AdminApi>(std::move(deps), admin, options.api);
  return server;
}

AdminServer::~AdminServer() {
  if (http_ != nullptr) evhttp_free(http_);
}

bool AdminServer::Reconfigure(const config::AdminConfig& admin, std::string* error) {
  if (!IsLoopbackListen(listen_) && admin.tokens.empty()) {
    *error = "admin: keeping the old tokens: " + listen_.text +
             " is not loopback and the new configuration has no [admin].tokens";
    return false;
  }
  api_->Reconfigure(admin);
  bool ok = true;
  std::string problems;
  if (admin.listen.text != listen_.text) {
    problems = "admin: listen changed from " + listen_.text + " to " + admin.listen.text +
               "; the new address takes effect after a restart";
    ok = false;
  }
  if (options_.tls == nullptr) {
    std::string tls_error;
    if (admin.tls.has_value() != started_with_config_tls_) {
      tls_error = started_with_config_tls_
                      ? "admin: [admin.tls] removed; the listener stays HTTPS until a restart"
                      : "admin: [admin.tls] added; the listener stays plain HTTP until a restart";
    } else if (admin.tls && !LoadTls(*admin.tls, &tls_error)) {
      tls_error += "; the previous admin certificate stays in use";
    }
    if (!tls_error.empty()) {
      problems += (problems.empty() ? "" : "; ") + tls_error;
      ok = false;
    }
  }
  if (!ok) *error = problems;
  return ok;
}

bool AdminServer::LoadTls(const config::TlsCertificate& certificate, std::string* error) {
  config::TlsConfig tls;
  tls.certificates.push_back(certificate);
  std::string why;
  std::shared_ptr<const proxy::TlsContext> context = proxy::TlsContext::Load(tls, &why);
  if (!context) {
    *error = "admin: tls: " + why;
    return false;
  }
  tls_context_ = std::move(context);
  return true;
}

// evhttp's bufferevent factory: a socket, or TLS over it (one SSL per
// connection, freed with the bufferevent; an [admin.tls] SSL keeps its own
// references to the context), watched by the request deadline.
bufferevent* AdminServer::MakeBufferevent(event_base* base, void* arg) {
  auto* server = static_cast<AdminServer*>(arg);
  SSL* ssl = nullptr;
  if (server->options_.tls != nullptr) {
    ssl = SSL_new(server->options_.tls);
    if (ssl == nullptr) return nullptr;
  } else if (server->tls_context_) {
    ssl = server->tls_context_->NewServerSsl();
    if (ssl == nullptr) return nullptr;
  }
  bufferevent* bev = ssl != nullptr
                         ? bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                          BEV_OPT_CLOSE_ON_FREE)
                         : bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
  return server->deadline_->Track(bev);
}

void AdminServer::OnRequest(evhttp_request* req, void* arg) {
  static_cast<AdminServer*>(arg)->Handle(req);
}

void AdminServer::Handle(evhttp_request* req) {
  ApiRequest request;
  request.method = MethodName(evhttp_request_get_command(req));
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(req);
  const char* path = uri ? evhttp_uri_get_path(uri) : nullptr;
  const char* query = uri ? evhttp_uri_get_query(uri) : nullptr;
  request.path = path ? path : "";
  request.query = query ? query : "";
  evkeyvalq* headers = evhttp_request_get_input_headers(req);
  request.bad_request = HeadProblem(headers);
  request.authorization = Header(headers, "Authorization");
  request.if_match = Header(headers, "If-Match");

  evbuffer* input = evhttp_request_get_input_buffer(req);
  size_t length = evbuffer_get_length(input);
  if (length > options_.api.max_body_bytes) {
    request.body_too_large = true;
  } else if (length > 0) {
    request.body.resize(length);
    evbuffer_copyout(input, request.body.data(), length);
  }

  evhttp_connection* conn = evhttp_request_get_connection(req);
  if (conn != nullptr) deadline_->RequestArrived(evhttp_connection_get_bufferevent(conn));
  const sockaddr* peer = conn ? evhttp_connection_get_addr(conn) : nullptr;
  if (peer != nullptr && peer->sa_family == AF_UNIX) {
    request.client_ip = "unix";
    request.client_address = "unix:" + listen_.unix_path;
  } else {
    // TCP: a browser may be reaching us through a rebound name. A target in
    // absolute form names the host itself, and Host is then ignored (RFC
    // 9112 §3.2.2): that authority is what is checked.
    request.host = Header(headers, "Host").value_or("");
    if (const char* authority = uri ? evhttp_uri_get_host(uri) : nullptr) {
      request.host = authority;
      int port = evhttp_uri_get_port(uri);
      if (port >= 0) *request.host += ":" + std::to_string(port);
    }
  }
  if (conn != nullptr && request.client_ip != "unix") {
    char* address = nullptr;
    ev_uint16_t port = 0;
    evhttp_connection_get_peer(conn, &address, &port);
    request.client_ip = address ? address : "";
    request.client_address = request.client_ip.find(':') != std::string::npos
                                 ? "[" + request.client_ip + "]:" + std::to_string(port)
                                 : request.client_ip + ":" + std::to_string(port);
  }
  request.client_is_loopback = IsLoopbackPeer(request.client_ip);

  api_->Handle(request, [req](ApiResponse response) {
    evkeyvalq* out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "Content-Type", response.content_type.c_str());
    evhttp_add_header(out, "Cache-Control", "no-store");
    evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
    for (const auto& [name, value] : response.headers) {
      evhttp_add_header(out, name.c_str(), value.c_str());
    }
    if (!response.body.empty() && response.body.back() != '\n' &&
        response.content_type == "application/json") {
      response.body += '\n';
    }
    // HEAD: the GET answer's fields, no body (evhttp would write a body it
    // is given, and adds no Content-Length for HEAD).
    const char* phrase = proxy::ReasonPhrase(response.status).data();
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
      evhttp_add_header(out, "Content-Length", std::to_string(response.body.size()).c_str());
      evhttp_send_reply(req, response.status, phrase, nullptr);
      return;
    }
    evbuffer* body = evbuffer_new();
    evbuffer_add(body, response.body.data(), response.body.size());
    // Phrases are string literals, so data() is NUL-terminated.
    evhttp_send_reply(req, response.status, phrase, body);
    evbuffer_free(body);
  });
}

}  // namespace tidegate::admin
