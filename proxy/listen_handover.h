// Listening sockets handed from a running tidegate to the binary that
// replaces it (SIGUSR2, app/binary_upgrade.h): the wire format over a unix
// SOCK_SEQPACKET channel (SCM_RIGHTS) and the set the new process adopts
// from. The same socket objects are reused, so connections waiting in an
// accept backlog are never lost.
//
// Keys name what a socket listens for, exactly as configured:
//   "http <address>", "https <address>"  a shop listener ([server].listen,
//                                        [server.tls].listen); one socket per
//                                        worker of the old process
//   "admin <address>"                    the admin listener ([admin].listen,
//                                        "unix:/path" included)
//
// Contract: plain functions and a plain value type, no threads of their own;
// InheritedSockets is used on the control thread only.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace tidegate::proxy {

// One listening socket of this process and what it listens for. `fd` is
// borrowed (the listener that owns it stays the owner).
struct ListenSocket {
  std::string key;
  int fd = -1;
};

std::string ShopListenKey(bool tls, const std::string& address_text);
std::string AdminListenKey(const std::string& address_text);

// Sockets received from the previous process, by key. Owns every fd it
// holds; Take() passes ownership to the caller; the destructor closes the
// rest.
class InheritedSockets {
 public:
  InheritedSockets() = default;
  ~InheritedSockets();
  InheritedSockets(const InheritedSockets&) = delete;
  InheritedSockets& operator=(const InheritedSockets&) = delete;

  void Add(const std::string& key, int fd);  // takes ownership of fd
  bool Has(const std::string& key) const { return fds_.count(key) > 0; }
  // Every fd under `key`, in the order received (empty when none).
  std::vector<int> Take(const std::string& key);
  // Closes every fd not taken and returns their keys (one entry per key).
  std::vector<std::string> CloseRest();
  bool empty() const { return fds_.empty(); }
  size_t size() const;

 private:
  std::map<std::string, std::vector<int>> fds_;
};

// Writes every socket of `sockets` to `channel` (a connected SOCK_SEQPACKET
// unix socket): messages of at most 64 descriptors, then an end marker.
// Never blocks (MSG_DONTWAIT): false + *error when the channel is full or
// broken. The fds stay open in this process.
bool SendListenSockets(int channel, const std::vector<ListenSocket>& sockets, std::string* error);

// Reads what SendListenSockets wrote, up to its end marker, waiting at most
// `timeout` in all. Received fds are close-on-exec. False + *error on a
// malformed message, a truncated descriptor list, EOF or the timeout (fds
// received so far stay in *out, which then closes them).
bool ReceiveListenSockets(int channel, std::chrono::milliseconds timeout, InheritedSockets* out,
                          std::string* error);

}  // namespace tidegate::proxy
