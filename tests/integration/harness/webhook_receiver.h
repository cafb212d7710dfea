// A webhook subscriber for the integration tests: an HTTP/1.1 server on a
// loopback port that records every POST (headers, body) and answers a
// status the test chooses (200 by default), then closes the connection.
//
// Contract:
// * Start() binds 127.0.0.1 (port 0 the first time, then the same port, so
//   Stop() + Start() is "the subscriber was down for a while") and runs one
//   thread that serves connections one at a time (poll, bounded reads).
// * Received() copies the requests so far (mutex-protected); WaitFor()
//   polls until a predicate holds or the timeout passes.
// * Stop() closes the listening socket and joins the thread; the
//   destructor stops it. Test thread only for Start/Stop/WaitFor.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tidegate::itest {

struct WebhookRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

class WebhookReceiver {
 public:
  WebhookReceiver() = default;
  ~WebhookReceiver() { Stop(); }
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  bool Start();
  void Stop();
  bool running() const { return thread_.joinable(); }
  uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/hooks/tidegate") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  void set_status(int status) { status_.store(status); }
  std::vector<WebhookRequest> Received() const;
  bool WaitFor(const std::function<bool(const std::vector<WebhookRequest>&)>& done,
               std::chrono::milliseconds timeout) const;

 private:
  void Serve(int listen_fd);
  void Handle(int fd);

  uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> status_{200};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<WebhookRequest> received_;
};

}  // namespace tidegate::itest
