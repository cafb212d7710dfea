// Simulated shoppers for the waiting-room integration tests: real HTTP/1.1
// over real sockets to one or several tidegate instances.
//
// Contract:
// * Shopper: one visitor with a cookie jar of the room's cookies
//   (tg_wait_<room>, tg_pass_<room>; anything else the origin sets is
//   ignored) and one keep-alive connection, re-opened when the server closed
//   it or when the shopper is pointed at another instance (set_port). Every
//   request is bounded by `timeout`; nothing throws, nothing blocks forever.
//   A Shopper is used by one thread at a time.
// * Arrive() requests a protected page as a browser would (text/html): the
//   answer is the shop (admitted), the queue page (queued), or an error.
//   Poll() asks /.tidegate/queue as the page's script does. CloseTab() drops
//   the connection (RST) and keeps the cookies: coming back is the next call.
//   Checkout() places an order with the demo shop (POST /checkout with a
//   cart), whose `Tidegate-Session: end` ends the session.
// * Crowd: many shoppers arriving on a schedule across instances and
//   following the queue from worker threads (shopper i belongs to thread
//   i % threads): arrive at its time on ports[i % ports.size()], poll every
//   `poll_interval` (optionally on the next instance, as a load balancer
//   without stickiness would), notice the admission, browse `browse_pages`
//   pages, optionally stay `stay` then check out, then close the tab. Every
//   `ghost_every`-th shopper (1-based: i % ghost_every == ghost_every - 1)
//   abandons the queue right after arriving (never polls again).
//   Start() returns at once; Join() waits for the threads, which stop by
//   themselves at `until` (or when every shopper is done, or at Stop()). Records are read
//   after Join(); the atomic counters may be read at any time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/http_reader.h"

namespace tidegate::itest {

using SteadyTime = std::chrono::steady_clock::time_point;

struct PollStatus {
  bool ok = false;        // a JSON answer arrived
  int status = 0;         // HTTP status
  bool in_queue = false;  // still queued (position known when > 0)
  bool admitted = false;  // holds a pass now
  uint64_t position = 0;  // 0 when the answer carries none
  std::string body;
};

enum class ArriveResult { kAdmitted, kQueued, kError };

class Shopper {
 public:
  explicit Shopper(uint16_t port, std::string room = "shop",
                   std::chrono::milliseconds timeout = std::chrono::milliseconds(8000));

  uint16_t port() const { return port_; }
  void set_port(uint16_t port);

  // One request with the cookie jar; Set-Cookie of the room's cookies are
  // absorbed. `extra_headers` are full lines ending in \r\n.
  HttpMessage Request(const std::string& method, const std::string& target,
                      const std::string& extra_headers = "", const std::string& body = "");

  ArriveResult Arrive(const std::string& path = "/");
  PollStatus Poll();
  // GET `path`: true when the shop answered (not the queue page, status < 500).
  bool Browse(const std::string& path = "/");
  // POST /checkout with a one-item cart; true on a 2xx/3xx from the shop.
  bool Checkout();
  void CloseTab();

  const std::string& pass() const { return pass_; }
  const std::string& wait() const { return wait_; }
  void set_pass(std::string value) { pass_ = std::move(value); }
  void set_wait(std::string value) { wait_ = std::move(value); }
  std::string CookieHeader() const;

 private:
  void Absorb(const HttpMessage& m);

  uint16_t port_;
  std::string room_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<RawConnection> conn_;
  std::string pass_;
  std::string wait_;
};

bool IsQueuePage(const HttpMessage& m);

// The ticket number inside a wait cookie's value
// ("<key id>.<base64url(w|room|ticket|…)>.<mac>"); 0 when it does not read.
uint64_t WaitTicket(const std::string& wait_cookie);

struct CrowdOptions {
  std::vector<uint16_t> ports;
  std::string room = "shop";
  int threads = 4;
  std::chrono::milliseconds poll_interval{1000};
  bool poll_round_robin = false;  // each poll on the next instance (new connection each time)
  int ghost_every = 0;            // 0 = nobody abandons
  int browse_pages = 1;           // pages fetched right after admission
  std::optional<std::chrono::milliseconds> stay;  // then check out (session end)
  std::string arrive_path = "/";
};

struct ShopperRecord {
  bool arrived = false;
  bool queued = false;  // got a ticket on arrival
  bool ghost = false;
  bool admitted = false;
  bool checked_out = false;
  uint64_t first_position = 0;
  SteadyTime arrived_at{};
  SteadyTime admitted_at{};    // when the shopper learnt it was admitted
  SteadyTime checkout_sent{};  // just before the order was sent
};

class Crowd {
 public:
  explicit Crowd(CrowdOptions options);
  ~Crowd();  // joins

  // `count` shoppers; shopper i arrives at start + arrival_offset(i).
  void Start(size_t count, std::function<std::chrono::milliseconds(size_t)> arrival_offset,
             SteadyTime until);
  void Join();
  // Asks the threads to stop now (then Join()).
  void Stop() { stop_.store(true); }

  const std::vector<ShopperRecord>& records() const { return records_; }
  SteadyTime start() const { return start_; }
  // Admissions the shoppers noticed with admitted_at in [from, to).
  size_t AdmittedBetween(SteadyTime from, SteadyTime to) const;
  // Maximum number of shoppers holding a session at once (admitted, not yet
  // checked out), from the records: a lower bound of the server's count.
  size_t MaxConcurrentSessions() const;

  std::atomic<uint64_t> errors{0};  // failed requests (no answer, 5xx without Retry-After)
  std::atomic<uint64_t> admitted{0};
  std::atomic<uint64_t> queued{0};
  std::atomic<uint64_t> holding{0};  // admitted and not checked out, right now
  std::string first_error() const;

 private:
  void RunThread(size_t index);
  void Step(size_t i, SteadyTime now);

  CrowdOptions options_;
  std::vector<std::unique_ptr<Shopper>> shoppers_;
  std::vector<ShopperRecord> records_;
  std::vector<SteadyTime> next_action_;
  std::vector<int> phase_;
  std::vector<size_t> polls_;
  std::function<std::chrono::milliseconds(size_t)> offset_;
  SteadyTime start_{};
  SteadyTime until_{};
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  mutable std::mutex error_mutex_;
  std::string first_error_;
};

}  // namespace tidegate::itest
