// One listening socket of one worker (SO_REUSEPORT: every worker binds its
// own socket on every configured address; the kernel spreads connections).
//
// Contract: created on the control thread before the worker thread starts,
// then used on the worker thread only (fd() and key() are fixed at creation
// and may be read by the control thread until the worker drains). Accept errors such as
// EMFILE/ENFILE never spin: the listener pauses for kAcceptBackoff, then tries again.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <memory>
#include <string>

#include "config/config.h"
#include "proxy/libevent_handles.h"

namespace tidegate::proxy {

class Worker;

class Listener {
 public:
  static constexpr std::chrono::milliseconds kAcceptBackoff{250};

  // Binds `address` (SO_REUSEADDR + SO_REUSEPORT) on `worker`'s base; the
  // socket takes no connection before Listen(). nullptr + *error on failure.
  static std::unique_ptr<Listener> Create(Worker& worker, const config::Address& address, bool tls,
                                          std::string* error);
  // Serves an already listening socket handed over by the previous process
  // (binary upgrade, proxy/listen_handover.h); takes ownership of `fd`
  // (closed on failure too). nullptr + *error on failure.
  static std::unique_ptr<Listener> Adopt(Worker& worker, const config::Address& address, bool tls,
                                         int fd, std::string* error);
  ~Listener();

  // Control thread, before the worker thread starts: a Create()d socket
  // starts listening (an adopted one listens already). False + *error.
  bool Listen(std::string* error);

  // Worker thread: the worker's connection limit switches accepting on/off.
  void SetAccepting(bool accepting);
  const std::string& address_text() const { return address_text_; }
  bool tls() const { return tls_; }
  int fd() const;

 private:
  Listener(Worker& worker, std::string address_text, bool tls);
  static void OnAccept(evconnlistener*, evutil_socket_t fd, sockaddr* addr, int len, void* arg);
  static void OnError(evconnlistener*, void* arg);
  static void OnBackoffEnd(evutil_socket_t, short, void* arg);
  void Apply();
  void Finish();  // error callback and backoff timer

  Worker& worker_;
  std::string address_text_;
  bool tls_;
  EvconnlistenerPtr listener_;
  EventPtr backoff_timer_;
  bool wanted_ = true;        // the worker wants connections
  bool backing_off_ = false;  // paused after an accept error
  bool enabled_ = true;
  bool bound_only_ = false;  // Create()d, Listen() not called yet
};

// Case 33: SO_REUSEPORT would let a second tidegate share the port silently.
// Binds a probe socket WITHOUT SO_REUSEPORT; fails when anything listens
// there. Returns false with *error "address 127.0.0.1:8080 is already in use"
// (or another bind error). Control thread, before the workers bind.
bool ProbeAddressFree(const config::Address& address, std::string* error);

}  // namespace tidegate::proxy
