// A scripted origin server: a listening socket on 127.0.0.1:0 and a thread
// per accepted connection that runs the test's script with exact bytes.
//
// Contract:
// * The constructor binds and listens (port() is valid right away) and
//   starts an acceptor thread. Every accepted connection gets its own thread
//   running `script(conn, index)` (index = 0, 1, … in accept order).
// * Every byte the origin receives is recorded per connection (Received()),
//   readable from the test thread at any time (mutex-protected copies).
//   This is how tests prove "the origin never saw a smuggled request".
// * Scripts must not sleep blindly: use conn.ReadRequest (bounded),
//   conn.WaitForClose / origin.WaitForStop to stall. The destructor sets
//   the stop flag, shuts every connection down (waking blocked reads) and
//   joins all threads.
// * Scripts run on origin threads: use EXPECT_* there only for values the
//   script owns; tests assert on the recorded data from the test thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/http_reader.h"

namespace tidegate::itest {

class ScriptedOrigin;

// The origin's side of one accepted connection (runs on its script thread).
class OriginConnection : public RawConnection {
 public:
  OriginConnection(int fd, ScriptedOrigin* origin, int index);
  int index() const { return index_; }
  // Reads one full request (http_parser); counts it in requests_seen().
  HttpMessage ReadRequest(milliseconds timeout = milliseconds(10000));
  // Blocks until the peer closes, the origin stops, or `timeout` passes.
  // Returns true when the peer (the proxy) closed or reset the connection.
  bool WaitForClose(milliseconds timeout);
  bool stopping() const;

 protected:
  void OnReceived(std::string_view data) override;
  void OnPeerClosed(bool reset) override;

 private:
  ScriptedOrigin* origin_;
  int index_;
};

class ScriptedOrigin {
 public:
  using Script = std::function<void(OriginConnection& conn)>;
  explicit ScriptedOrigin(Script script);
  ~ScriptedOrigin();
  ScriptedOrigin(const ScriptedOrigin&) = delete;
  ScriptedOrigin& operator=(const ScriptedOrigin&) = delete;

  uint16_t port() const { return port_; }
  int accepted() const;
  int requests_seen() const;
  // "METHOD url" of every request read by ReadRequest, in order.
  std::vector<std::string> requests() const;
  // Bytes received on connection `index` ("" when it does not exist).
  std::string Received(int index) const;
  // All connections' bytes, in accept order.
  std::string AllReceived() const;
  // True when the proxy closed/reset connection `index` (seen by a read).
  bool PeerClosed(int index) const;
  // Waits until at least `n` connections were accepted.
  bool WaitAccepted(int n, milliseconds timeout) const;
  // Waits until connection `index`'s script saw the proxy close it.
  bool WaitPeerClosed(int index, milliseconds timeout) const;
  // Waits until the origin's requests_seen() >= n.
  bool WaitRequests(int n, milliseconds timeout) const;
  // For scripts: blocks until the destructor runs or `timeout` passes.
  void WaitForStop(milliseconds timeout) const;
  bool stopping() const { return stop_.load(); }

 private:
  friend class OriginConnection;
  struct Record {
    std::string received;
    bool peer_closed = false;
    int fd = -1;
  };
  void AcceptLoop();
  void Note(int index, std::string_view data, bool closed);
  void CountRequest(const HttpMessage& request);

  Script script_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<Record> records_;
  int requests_ = 0;
  std::vector<std::string> request_lines_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

// Ready-made bytes for scripts.
// "HTTP/1.1 <status> X\r\nContent-Length: N\r\n<extra>\r\n<body>"; `extra`
// holds complete header lines ("Name: value\r\n").
std::string ResponseBytes(int status, std::string_view body, std::string_view extra = "");

// A well-behaved keep-alive origin: answers every request with
// `ResponseBytes(200, "ok:<url>")` until the peer closes.
ScriptedOrigin::Script ServeOkForever();

// An origin that accepts nothing: a listening socket whose accept queue is
// full, so a connect() to it hangs (SYNs are dropped) until the client's own
// connect timeout. port() is valid after construction.
class BlackholeOrigin {
 public:
  BlackholeOrigin();
  ~BlackholeOrigin();
  uint16_t port() const { return port_; }
  bool ok() const { return ok_; }

 private:
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  bool ok_ = false;
  std::vector<int> fillers_;
};

}  // namespace tidegate::itest
