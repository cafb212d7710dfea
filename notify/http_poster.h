// POSTs a body to an http:// or https:// URL on the control thread's event
// loop (libevent evhttp; names resolved by evdns, never a blocking
// getaddrinfo; https verified against the system's CA store and the URL's
// host name). One connection per POST, closed after it: webhooks are rare.
//
// Contract: the thread running `base`, for every call and callback. `done`
// is called exactly once, from the loop (never inside Post()), unless the
// poster is destroyed first: then in-flight POSTs are abandoned and their
// callbacks dropped. Owns its evdns base, TLS context and connections;
// borrows `base` (must outlive it).
#pragma once

#include <event2/event.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "proxy/libevent_handles.h"

struct evdns_base;
struct evhttp_connection;
struct evhttp_request;
struct ssl_ctx_st;

namespace tidegate::notify {

class HttpPoster {
 public:
  struct Result {
    int status = 0;     // HTTP status; 0 when no response arrived
    std::string error;  // why there was no response ("" when status != 0)
  };
  using Headers = std::vector<std::pair<std::string, std::string>>;

  explicit HttpPoster(event_base* base);
  ~HttpPoster();
  HttpPoster(const HttpPoster&) = delete;
  HttpPoster& operator=(const HttpPoster&) = delete;

  void Post(const std::string& url, const Headers& headers, const std::string& body,
            std::chrono::milliseconds timeout, std::function<void(Result)> done);

  size_t in_flight() const { return calls_.size(); }

 private:
  struct Call;
  static void OnResponse(evhttp_request* request, void* arg);
  static void OnError(int error, void* arg);
  static void OnReap(evutil_socket_t, short, void* arg);
  void Finish(Call* call, Result result);
  ssl_ctx_st* TlsContext(std::string* error);

  event_base* base_;
  evdns_base* dns_ = nullptr;
  ssl_ctx_st* tls_ = nullptr;
  std::map<Call*, std::unique_ptr<Call>> calls_;
  std::vector<std::unique_ptr<Call>> finished_;  // freed by reap_ (not inside their callbacks)
  std::vector<std::pair<std::function<void(Result)>, Result>> pending_results_;  // for reap_
  proxy::EventPtr reap_;
};

}  // namespace tidegate::notify
