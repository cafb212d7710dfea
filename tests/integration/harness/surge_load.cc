#include "tests/integration/harness/surge_load.h"

#include <algorithm>
#include <cmath>

#include "tests/integration/harness/shopper.h"

namespace tidegate::itest {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

void SurgeLoad::Start(steady_clock::time_point until) {
  start_ = steady_clock::now();
  until_ = until;
  for (int t = 0; t < options_.shoppers; ++t) threads_.emplace_back([this, t] { Run(t); });
}

void SurgeLoad::Join() {
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void SurgeLoad::Record(double ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  latencies_.push_back(ms);
}

size_t SurgeLoad::latency_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return latencies_.size();
}

double SurgeLoad::LatencyPercentile(double p) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (latencies_.empty()) return 0;
  std::vector<double> v = latencies_;
  std::sort(v.begin(), v.end());
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

double SurgeLoad::OriginErrorShare() const {
  uint64_t n = origin_requests.load();
  return n == 0 ? 0 : static_cast<double>(origin_5xx.load() + failures.load()) / n;
}

void SurgeLoad::Run(int index) {
  const uint16_t port = options_.ports[index % options_.ports.size()];
  std::this_thread::sleep_until(std::min(until_, start_ + options_.ramp * index));
  auto timed = [&](Shopper& s, const std::string& method, const std::string& target,
                   const std::string& headers, const std::string& body, bool* shop) {
    auto t0 = steady_clock::now();
    HttpMessage m = s.Request(method, target, headers, body);
    double ms = std::chrono::duration<double, std::milli>(steady_clock::now() - t0).count();
    *shop = !m.ok || !IsQueuePage(m);
    if (!*shop) return m;  // sent back to the queue: not an origin request
    ++origin_requests;
    if (!m.ok) {
      ++failures;
    } else if (m.status >= 500) {
      ++origin_5xx;
    } else {
      Record(ms);
    }
    return m;
  };
  while (steady_clock::now() < until_) {
    Shopper s(port, "shop", options_.timeout);
    bool shop = false;
    HttpMessage first = timed(s, "GET", "/", "Accept: text/html\r\n", "", &shop);
    if (!shop) {
      ++queued;
      bool in = false;
      while (!in && steady_clock::now() < until_) {
        std::this_thread::sleep_for(options_.poll_interval);
        PollStatus p = s.Poll();
        in = p.ok && (p.admitted || !p.in_queue);
      }
      if (!in) break;
    } else if (!first.ok || first.status >= 500) {
      std::this_thread::sleep_for(milliseconds(500));  // the shop failed: come back later
      continue;
    }
    ++admitted;
    uint64_t now_inside = ++inside_now;
    uint64_t seen = inside_max.load();
    while (now_inside > seen && !inside_max.compare_exchange_weak(seen, now_inside)) {
    }
    for (int p = 0; p < options_.pages && steady_clock::now() < until_; ++p) {
      std::string path = "/products/" + std::to_string(1 + (index + p) % 6);
      timed(s, "GET", path, "Accept: text/html\r\n", "", &shop);
      std::this_thread::sleep_for(options_.think);
    }
    {
      // Even at the deadline: a shopper leaves properly (the order ends its
      // session), so no session of this run holds a place in the next one.
      HttpMessage m = timed(s, "POST", "/checkout",
                            "Cookie: cart=1:1\r\nContent-Type: "
                            "application/x-www-form-urlencoded\r\n",
                            "shipping_method=standard&payment_method=card", &shop);
      if (shop && m.ok && m.status < 400) ++checkouts;
    }
    --inside_now;
    s.CloseTab();
  }
}

}  // namespace tidegate::itest
