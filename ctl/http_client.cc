#include "ctl/http_client.h"

#include <arpa/inet.h>
#include <http_parser.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace tidegate::ctl {
namespace {

class Socket {
 public:
  explicit Socket(int fd = -1) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  void Reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

void SetTimeouts(int fd, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// A connected socket, optionally wrapped in TLS; blocking reads and writes.
class Channel {
 public:
  ~Channel() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  }

  // TLS client handshake over `fd`, verifying the peer for `host`.
  bool StartTls(int fd, const std::string& host, const std::string& ca_file, std::string* error) {
    fd_ = fd;
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (ctx_ == nullptr) return Fail("cannot create a TLS context", error);
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    int loaded = ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx_)
                                 : SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr);
    if (loaded != 1) return Fail("cannot load CA certificates '" + ca_file + "'", error);
    ssl_ = SSL_new(ctx_);
    if (ssl_ == nullptr || SSL_set_fd(ssl_, fd) != 1)
      return Fail("cannot create a TLS session", error);
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    in6_addr addr{};
    bool is_ip = inet_pton(AF_INET, host.c_str(), &addr) == 1 ||
                 inet_pton(AF_INET6, host.c_str(), &addr) == 1;
    if (is_ip) {
      X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl_, host.c_str());
      X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
    }
    if (SSL_connect(ssl_) != 1) {
      long verify = SSL_get_verify_result(ssl_);
      std::string why =
          verify != X509_V_OK ? X509_verify_cert_error_string(verify) : "handshake failed";
      return Fail("TLS: " + why, error);
    }
    return true;
  }

  void SetPlain(int fd) { fd_ = fd; }

  ssize_t Write(const char* data, size_t len) {
    if (ssl_ != nullptr) {
      int n = SSL_write(ssl_, data, static_cast<int>(len));
      return n > 0 ? n : -1;
    }
    return ::send(fd_, data, len, MSG_NOSIGNAL);
  }

  // > 0 bytes, 0 on a clean end of stream, -1 on error (errno set for plain sockets).
  ssize_t Read(char* buf, size_t len) {
    if (ssl_ != nullptr) {
      int n = SSL_read(ssl_, buf, static_cast<int>(len));
      if (n > 0) return n;
      int err = SSL_get_error(ssl_, n);
      // A peer that closes without close_notify ends the stream too (the
      // parser decides whether the response was complete).
      if (err == SSL_ERROR_ZERO_RETURN ||
          (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0))
        return 0;
      if (err == SSL_ERROR_SSL) {
        ERR_clear_error();
        errno = ECONNRESET;
      }
      return -1;
    }
    return ::recv(fd_, buf, len, 0);
  }

 private:
  bool Fail(std::string message, std::string* error) {
    ERR_clear_error();
    *error = std::move(message);
    return false;
  }
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

bool Connect(const HttpTarget& target, std::chrono::milliseconds timeout, Socket* sock,
             std::string* error) {
  if (!target.unix_path.empty()) {
    sockaddr_un sun{};
    if (target.unix_path.size() >= sizeof sun.sun_path) {
      *error = "unix socket path too long";
      return false;
    }
    sun.sun_family = AF_UNIX;
    std::memcpy(sun.sun_path, target.unix_path.data(), target.unix_path.size());
    sock->Reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    SetTimeouts(sock->fd(), timeout);
    if (sock->fd() < 0 ||
        ::connect(sock->fd(), reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) {
      *error = std::strerror(errno);
      return false;
    }
    return true;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* result = nullptr;
  std::string port = std::to_string(target.port);
  int rc = getaddrinfo(target.host.c_str(), port.c_str(), &hints, &result);
  if (rc != 0) {
    *error = gai_strerror(rc);
    return false;
  }
  *error = "no address";
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    sock->Reset(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (sock->fd() < 0) continue;
    SetTimeouts(sock->fd(), timeout);  // SO_SNDTIMEO also bounds connect(2) on Linux
    if (::connect(sock->fd(), ai->ai_addr, ai->ai_addrlen) == 0) {
      freeaddrinfo(result);
      return true;
    }
    *error = std::strerror(errno);
  }
  freeaddrinfo(result);
  return false;
}

struct ParseState {
  HttpResponse* response;
  std::string header_name;
  std::string header_value;
  bool in_value = false;
  bool complete = false;
  void FlushHeader() {
    if (!header_name.empty()) {
      std::transform(header_name.begin(), header_name.end(), header_name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      response->headers[header_name] = header_value;
    }
    header_name.clear();
    header_value.clear();
    in_value = false;
  }
};

ParseState* StateOf(http_parser* p) { return static_cast<ParseState*>(p->data); }

}  // namespace

bool ParseAdminUrl(const std::string& url, HttpTarget* target, std::string* error) {
  *target = HttpTarget{};
  if (url.rfind("unix:", 0) == 0) {
    target->unix_path = url.substr(5);
    if (target->unix_path.empty() || target->unix_path[0] != '/') {
      *error = "admin URL '" + url + "': unix socket path must be absolute (unix:/path)";
      return false;
    }
    return true;
  }
  http_parser_url parsed;
  http_parser_url_init(&parsed);
  if (http_parser_parse_url(url.data(), url.size(), 0, &parsed) != 0 ||
      !(parsed.field_set & (1 << UF_SCHEMA)) || !(parsed.field_set & (1 << UF_HOST))) {
    *error = "admin URL '" + url + "' is not an http:// URL";
    return false;
  }
  auto field = [&](http_parser_url_fields f) {
    return url.substr(parsed.field_data[f].off, parsed.field_data[f].len);
  };
  std::string schema = field(UF_SCHEMA);
  if (schema != "http" && schema != "https") {
    *error = "admin URL '" + url + "': only http://, https:// or unix:/path are supported";
    return false;
  }
  target->tls = schema == "https";
  target->host = field(UF_HOST);
  target->port = (parsed.field_set & (1 << UF_PORT)) ? parsed.port : (target->tls ? 443 : 80);
  if (parsed.field_set & (1 << UF_PATH)) {
    target->base_path = field(UF_PATH);
    while (!target->base_path.empty() && target->base_path.back() == '/') {
      target->base_path.pop_back();
    }
  }
  return true;
}

bool SendRequest(const HttpTarget& target, const HttpRequestSpec& spec, HttpResponse* response,
                 HttpError* kind, std::string* error) {
  *response = HttpResponse{};
  *kind = HttpError::kNone;
  Socket sock;
  if (!Connect(target, spec.timeout, &sock, error)) {
    *kind = HttpError::kConnect;
    return false;
  }
  Channel channel;
  if (target.tls) {
    errno = 0;
    if (!channel.StartTls(sock.fd(), target.host, spec.ca_file, error)) {
      *kind = HttpError::kTls;
      return false;
    }
  } else {
    channel.SetPlain(sock.fd());
  }
  std::string host =
      target.unix_path.empty()
          ? (target.host.find(':') != std::string::npos ? "[" + target.host + "]" : target.host) +
                ":" + std::to_string(target.port)
          : "localhost";
  std::string request = spec.method + " " + target.base_path + spec.path_and_query +
                        " HTTP/1.1\r\nHost: " + host +
                        "\r\nUser-Agent: tidegate-ctl\r\nAccept: application/json, "
                        "text/plain\r\nConnection: close\r\n";
  if (spec.bearer_token) request += "Authorization: Bearer " + *spec.bearer_token + "\r\n";
  if (spec.json_body) {
    request += "Content-Type: application/json\r\nContent-Length: " +
               std::to_string(spec.json_body->size()) + "\r\n\r\n" + *spec.json_body;
  } else {
    request += "Content-Length: 0\r\n\r\n";
  }
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = channel.Write(request.data() + sent, request.size() - sent);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *kind = HttpError::kIo;
      *error = std::string("send: ") + std::strerror(errno);
      return false;
    }
    sent += static_cast<size_t>(n);
  }

  http_parser_settings settings;
  http_parser_settings_init(&settings);
  settings.on_header_field = [](http_parser* p, const char* at, size_t len) {
    ParseState* s = StateOf(p);
    if (s->in_value) s->FlushHeader();
    s->header_name.append(at, len);
    return 0;
  };
  settings.on_header_value = [](http_parser* p, const char* at, size_t len) {
    ParseState* s = StateOf(p);
    s->in_value = true;
    s->header_value.append(at, len);
    return 0;
  };
  settings.on_headers_complete = [](http_parser* p) {
    StateOf(p)->FlushHeader();
    StateOf(p)->response->status = static_cast<int>(p->status_code);
    return 0;
  };
  settings.on_body = [](http_parser* p, const char* at, size_t len) {
    StateOf(p)->response->body.append(at, len);
    return 0;
  };
  settings.on_message_complete = [](http_parser* p) {
    StateOf(p)->complete = true;
    return 0;
  };
  ParseState state{response};
  http_parser parser;
  http_parser_init(&parser, HTTP_RESPONSE);
  parser.data = &state;
  char buf[16384];
  constexpr size_t kMaxResponse = 64 << 20;
  size_t total = 0;
  while (!state.complete) {
    errno = 0;
    ssize_t n = channel.Read(buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *kind = HttpError::kIo;
      *error = errno == EAGAIN || errno == EWOULDBLOCK
                   ? "timed out waiting for the response"
                   : std::string("recv: ") + std::strerror(errno);
      return false;
    }
    size_t parsed = http_parser_execute(&parser, &settings, buf, static_cast<size_t>(n));
    if (HTTP_PARSER_ERRNO(&parser) != HPE_OK || (n > 0 && parsed != static_cast<size_t>(n))) {
      *kind = HttpError::kProtocol;
      *error =
          std::string("bad HTTP response: ") + http_errno_description(HTTP_PARSER_ERRNO(&parser));
      return false;
    }
    if (n == 0) break;  // EOF (already fed to the parser above)
    total += static_cast<size_t>(n);
    if (total > kMaxResponse) {
      *kind = HttpError::kProtocol;
      *error = "response too large";
      return false;
    }
  }
  if (!state.complete) {
    *kind = HttpError::kProtocol;
    *error = "connection closed before the response was complete";
    return false;
  }
  return true;
}

}  // namespace tidegate::ctl
