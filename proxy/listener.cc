#include "proxy/listener.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "proxy/error_log.h"
#include "proxy/snapshot.h"
#include "proxy/worker.h"

namespace tidegate::proxy {
namespace {

constexpr int kBacklog = 4096;

}  // namespace

Listener::Listener(Worker& worker, std::string address_text, bool tls)
    : worker_(worker), address_text_(std::move(address_text)), tls_(tls) {}

Listener::~Listener() = default;

std::unique_ptr<Listener> Listener::Create(Worker& worker, const config::Address& address, bool tls,
                                           std::string* error) {
  sockaddr_storage addr;
  socklen_t addr_len = 0;
  if (!ResolveAddress(address, &addr, &addr_len, error)) return nullptr;
  std::unique_ptr<Listener> listener(new Listener(worker, address.text, tls));
  // What evconnlistener_new_bind() does, without its listen(): Listen()
  // starts the queue once the process knows it will serve.
  int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = "cannot listen on " + address.text + ": " + strerror(errno);
    return nullptr;
  }
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&addr), addr_len) != 0) {
    *error = "cannot listen on " + address.text + ": " + strerror(errno);
    close(fd);
    return nullptr;
  }
  listener->listener_.reset(evconnlistener_new(worker.base(), &Listener::OnAccept, listener.get(),
                                               LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
                                               /*backlog=*/0, fd));
  if (!listener->listener_) {
    *error = "cannot listen on " + address.text + ": " + strerror(errno);
    close(fd);
    return nullptr;
  }
  listener->bound_only_ = true;
  listener->Finish();
  return listener;
}

bool Listener::Listen(std::string* error) {
  if (!bound_only_) return true;
  if (::listen(fd(), kBacklog) != 0) {
    *error = "cannot listen on " + address_text_ + ": " + strerror(errno);
    return false;
  }
  bound_only_ = false;
  return true;
}

std::unique_ptr<Listener> Listener::Adopt(Worker& worker, const config::Address& address, bool tls,
                                          int fd, std::string* error) {
  std::unique_ptr<Listener> listener(new Listener(worker, address.text, tls));
  // The handed-over socket already listens (backlog 0: no listen() call)
  // and keeps its queue; O_NONBLOCK is set again in case the sender had not.
  evutil_make_socket_nonblocking(fd);
  listener->listener_.reset(evconnlistener_new(worker.base(), &Listener::OnAccept, listener.get(),
                                               LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
                                               /*backlog=*/0, fd));
  if (!listener->listener_) {
    *error = "cannot adopt the listening socket of " + address.text + ": " + strerror(errno);
    close(fd);
    return nullptr;
  }
  listener->Finish();
  return listener;
}

void Listener::Finish() {
  evconnlistener_set_error_cb(listener_.get(), &Listener::OnError);
  backoff_timer_.reset(evtimer_new(worker_.base(), &Listener::OnBackoffEnd, this));
}

int Listener::fd() const { return evconnlistener_get_fd(listener_.get()); }

void Listener::SetAccepting(bool accepting) {
  wanted_ = accepting;
  Apply();
}

void Listener::Apply() {
  bool enable = wanted_ && !backing_off_;
  if (enable == enabled_) return;
  enabled_ = enable;
  if (enable) {
    evconnlistener_enable(listener_.get());
  } else {
    evconnlistener_disable(listener_.get());
  }
}

void Listener::OnAccept(evconnlistener*, evutil_socket_t fd, sockaddr* addr, int len, void* arg) {
  auto* self = static_cast<Listener*>(arg);
  self->worker_.OnAccept(fd, addr, len, self->tls_);
}

void Listener::OnError(evconnlistener*, void* arg) {
  auto* self = static_cast<Listener*>(arg);
  int err = EVUTIL_SOCKET_ERROR();
  self->worker_.mutable_stats().accept_errors.Inc();
  self->worker_.error_log().Write(LogLevel::kWarn, "listener.accept",
                                  self->address_text_ + ": accept failed: " +
                                      evutil_socket_error_to_string(err) + "; pausing accepts");
  // EMFILE/ENFILE/ENOBUFS leave the socket readable: without a pause the
  // loop would spin on accept().
  self->backing_off_ = true;
  self->Apply();
  timeval tv{0, static_cast<suseconds_t>(kAcceptBackoff.count() * 1000)};
  evtimer_add(self->backoff_timer_.get(), &tv);
}

void Listener::OnBackoffEnd(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Listener*>(arg);
  self->backing_off_ = false;
  self->Apply();
}

bool ProbeAddressFree(const config::Address& address, std::string* error) {
  sockaddr_storage addr;
  socklen_t addr_len = 0;
  if (!ResolveAddress(address, &addr, &addr_len, error)) return false;
  if (address.port == 0) {
    *error = "listen address " + address.text + ": port 0 is not supported";
    return false;
  }
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = "socket: " + std::string(strerror(errno));
    return false;
  }
  // SO_REUSEADDR (so TIME_WAIT leftovers do not count) but no SO_REUSEPORT:
  // bind fails if any socket, ours or another process's, listens there.
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  int rc = bind(fd, reinterpret_cast<sockaddr*>(&addr), addr_len);
  int err = errno;
  close(fd);
  if (rc == 0) return true;
  if (err == EADDRINUSE) {
    *error = "address " + address.text + " is already in use";
  } else {
    *error = "cannot bind " + address.text + ": " + strerror(err);
  }
  return false;
}

}  // namespace tidegate::proxy
