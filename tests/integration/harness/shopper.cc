#include "tests/integration/harness/shopper.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

namespace tidegate::itest {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

enum Phase { kNotArrived = 0, kQueued, kAdmitted, kStaying, kDone };

bool StartsWithCi(const std::string& s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

uint64_t WaitTicket(const std::string& wait_cookie) {
  size_t dot = wait_cookie.find('.');
  size_t end = wait_cookie.find('.', dot + 1);
  if (dot == std::string::npos || end == std::string::npos) return 0;
  std::string payload;
  uint32_t bits = 0;
  int have = 0;
  for (char ch : wait_cookie.substr(dot + 1, end - dot - 1)) {
    int v = ch >= 'A' && ch <= 'Z'   ? ch - 'A'
            : ch >= 'a' && ch <= 'z' ? ch - 'a' + 26
            : ch >= '0' && ch <= '9' ? ch - '0' + 52
            : ch == '-'              ? 62
            : ch == '_'              ? 63
                                     : -1;
    if (v < 0) continue;  // padding
    bits = (bits << 6) | static_cast<uint32_t>(v);
    have += 6;
    if (have >= 8) {
      have -= 8;
      payload.push_back(static_cast<char>((bits >> have) & 0xff));
    }
  }
  // w|room|ticket|…
  size_t first = payload.find('|');
  size_t second = payload.find('|', first + 1);
  size_t third = payload.find('|', second + 1);
  if (third == std::string::npos || payload.rfind("w|", 0) != 0) return 0;
  return std::stoull(payload.substr(second + 1, third - second - 1));
}

bool IsQueuePage(const HttpMessage& m) {
  return m.body.find("id=\"tg-queue\"") != std::string::npos;
}

Shopper::Shopper(uint16_t port, std::string room, milliseconds timeout)
    : port_(port), room_(std::move(room)), timeout_(timeout) {}

void Shopper::set_port(uint16_t port) {
  if (port != port_) conn_.reset();
  port_ = port;
}

std::string Shopper::CookieHeader() const {
  std::string c;
  if (!pass_.empty()) c += "tg_pass_" + room_ + "=" + pass_;
  if (!wait_.empty()) c += (c.empty() ? "" : "; ") + ("tg_wait_" + room_ + "=" + wait_);
  return c;
}

void Shopper::Absorb(const HttpMessage& m) {
  for (const auto& [name, value] : m.headers) {
    if (!StartsWithCi(name, "set-cookie") || name.size() != 10) continue;
    std::string pair = value.substr(0, value.find(';'));
    size_t eq = pair.find('=');
    if (eq == std::string::npos) continue;
    std::string n = pair.substr(0, eq);
    std::string v = pair.substr(eq + 1);
    if (n == "tg_pass_" + room_) pass_ = v;
    if (n == "tg_wait_" + room_) wait_ = v;
  }
}

HttpMessage Shopper::Request(const std::string& method, const std::string& target,
                             const std::string& extra_headers, const std::string& body) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: shop.test\r\n";
  std::string cookie = CookieHeader();
  if (!cookie.empty()) req += "Cookie: " + cookie + "\r\n";
  req += extra_headers;
  if (!body.empty() || method == "POST") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  // A kept-alive connection may have been closed by the server meanwhile:
  // one retry on a fresh connection (only when nothing came back at all).
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = conn_ != nullptr;
    if (!conn_) {
      std::string error;
      conn_ = RawConnection::Connect(port_, &error);
      if (!conn_) return FailedMessage("connect to " + std::to_string(port_) + ": " + error);
    }
    if (!conn_->Send(req)) {
      conn_.reset();
      if (reused) continue;
      return FailedMessage("send failed");
    }
    HttpMessage m = ReadResponse(*conn_, Within(timeout_));
    if (!m.ok) {
      bool nothing = conn_->peer_closed() && m.raw.empty();
      conn_.reset();
      if (reused && nothing) continue;
      return m;
    }
    if (!m.keep_alive) conn_.reset();
    Absorb(m);
    return m;
  }
  return FailedMessage("connection closed twice");
}

ArriveResult Shopper::Arrive(const std::string& path) {
  HttpMessage m = Request("GET", path, "Accept: text/html\r\n");
  if (!m.ok) return ArriveResult::kError;
  if (IsQueuePage(m)) return ArriveResult::kQueued;
  if (m.status >= 500) return ArriveResult::kError;
  return ArriveResult::kAdmitted;
}

PollStatus Shopper::Poll() {
  PollStatus s;
  HttpMessage m = Request("GET", "/.tidegate/queue?room=" + room_);
  s.status = m.status;
  s.body = m.body;
  if (!m.ok) return s;
  auto j = nlohmann::json::parse(m.body, nullptr, false);
  if (!j.is_object()) return s;
  s.ok = true;
  s.in_queue = j.value("in_queue", false);
  s.admitted = j.value("admitted", false);
  if (j.contains("position") && j["position"].is_number_unsigned()) {
    s.position = j["position"].get<uint64_t>();
  }
  return s;
}

bool Shopper::Browse(const std::string& path) {
  HttpMessage m = Request("GET", path, "Accept: text/html\r\n");
  return m.ok && m.status < 500 && !IsQueuePage(m);
}

bool Shopper::Checkout() {
  HttpMessage m = Request("POST", "/checkout",
                          "Cookie: cart=1:1\r\nContent-Type: application/x-www-form-urlencoded\r\n",
                          "shipping_method=standard&payment_method=card");
  return m.ok && m.status < 400 && !IsQueuePage(m);
}

void Shopper::CloseTab() {
  if (conn_) conn_->Reset();
  conn_.reset();
}

Crowd::Crowd(CrowdOptions options) : options_(std::move(options)) {}

Crowd::~Crowd() { Join(); }

void Crowd::Start(size_t count, std::function<milliseconds(size_t)> arrival_offset,
                  SteadyTime until) {
  offset_ = std::move(arrival_offset);
  start_ = steady_clock::now();
  until_ = until;
  records_.assign(count, ShopperRecord{});
  next_action_.assign(count, SteadyTime{});
  phase_.assign(count, kNotArrived);
  polls_.assign(count, 0);
  shoppers_.clear();
  for (size_t i = 0; i < count; ++i) {
    uint16_t port = options_.ports[i % options_.ports.size()];
    shoppers_.push_back(std::make_unique<Shopper>(port, options_.room));
    next_action_[i] = start_ + offset_(i);
    if (options_.ghost_every > 0) {
      records_[i].ghost = i % static_cast<size_t>(options_.ghost_every) ==
                          static_cast<size_t>(options_.ghost_every - 1);
    }
  }
  for (int t = 0; t < options_.threads; ++t) {
    threads_.emplace_back([this, t] { RunThread(static_cast<size_t>(t)); });
  }
}

void Crowd::Join() {
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

std::string Crowd::first_error() const {
  std::lock_guard lock(error_mutex_);
  return first_error_;
}

void Crowd::RunThread(size_t index) {
  auto stride = static_cast<size_t>(options_.threads);
  while (true) {
    SteadyTime now = steady_clock::now();
    if (now >= until_ || stop_.load()) return;
    SteadyTime next = until_;
    bool any_left = false;
    for (size_t i = index; i < shoppers_.size(); i += stride) {
      if (phase_[i] == kDone) continue;
      any_left = true;
      if (next_action_[i] <= now) {
        Step(i, now);
        now = steady_clock::now();
        if (now >= until_ || stop_.load()) return;
      }
      if (phase_[i] != kDone) next = std::min(next, next_action_[i]);
    }
    if (!any_left) return;
    if (next > now) std::this_thread::sleep_until(std::min(next, now + milliseconds(20)));
  }
}

void Crowd::Step(size_t i, SteadyTime now) {
  Shopper& s = *shoppers_[i];
  ShopperRecord& r = records_[i];
  auto note_error = [this](const std::string& what) {
    errors.fetch_add(1);
    std::lock_guard lock(error_mutex_);
    if (first_error_.empty()) first_error_ = what;
  };
  auto admitted_now = [&](SteadyTime at) {
    r.admitted = true;
    r.admitted_at = at;
    admitted.fetch_add(1);
    holding.fetch_add(1);
    phase_[i] = kAdmitted;
    next_action_[i] = at;
  };
  switch (phase_[i]) {
    case kNotArrived: {
      ArriveResult a = s.Arrive(options_.arrive_path);
      SteadyTime at = steady_clock::now();
      if (a == ArriveResult::kError) {
        note_error("arrival of shopper " + std::to_string(i) + " failed");
        next_action_[i] = at + options_.poll_interval;
        return;
      }
      r.arrived = true;
      r.arrived_at = at;
      if (a == ArriveResult::kAdmitted) {
        admitted_now(at);
        return;
      }
      r.queued = true;
      queued.fetch_add(1);
      if (r.ghost) {
        s.CloseTab();
        phase_[i] = kDone;
        return;
      }
      phase_[i] = kQueued;
      next_action_[i] = at + options_.poll_interval;
      return;
    }
    case kQueued: {
      if (s.wait().empty()) {
        // No ticket (the store was unavailable when it arrived): the page's
        // "check again" reloads the protected page, which is an arrival.
        phase_[i] = kNotArrived;
        queued.fetch_sub(1);
        r.queued = false;
        Step(i, now);
        return;
      }
      if (options_.poll_round_robin) {
        size_t n = options_.ports.size();
        s.set_port(options_.ports[(i + ++polls_[i]) % n]);
      }
      PollStatus p = s.Poll();
      SteadyTime at = steady_clock::now();
      if (!p.ok && p.status != 503) {
        note_error("poll of shopper " + std::to_string(i) + ": status " + std::to_string(p.status) +
                   " " + p.body.substr(0, 200));
      }
      if (p.admitted) {
        admitted_now(at);
        return;
      }
      if (r.first_position == 0 && p.position > 0) r.first_position = p.position;
      next_action_[i] = at + options_.poll_interval;
      return;
    }
    case kAdmitted: {
      for (int k = 0; k < options_.browse_pages; ++k) {
        if (!s.Browse("/")) note_error("shopper " + std::to_string(i) + " admitted but not let in");
      }
      if (options_.stay) {
        phase_[i] = kStaying;
        next_action_[i] = r.admitted_at + *options_.stay;
        return;
      }
      s.CloseTab();
      phase_[i] = kDone;
      return;
    }
    case kStaying: {
      r.checkout_sent = steady_clock::now();
      holding.fetch_sub(1);
      if (s.Checkout()) {
        r.checked_out = true;
      } else {
        note_error("checkout of shopper " + std::to_string(i) + " failed");
      }
      s.CloseTab();
      phase_[i] = kDone;
      return;
    }
    default:
      return;
  }
}

size_t Crowd::AdmittedBetween(SteadyTime from, SteadyTime to) const {
  size_t n = 0;
  for (const ShopperRecord& r : records_) {
    if (r.admitted && r.admitted_at >= from && r.admitted_at < to) ++n;
  }
  return n;
}

size_t Crowd::MaxConcurrentSessions() const {
  // +1 at admission, -1 when the order is sent; a shopper that never checked
  // out holds its session to the end.
  std::multimap<SteadyTime, int> events;
  for (const ShopperRecord& r : records_) {
    if (!r.admitted) continue;
    events.emplace(r.admitted_at, +1);
    if (r.checkout_sent != SteadyTime{}) events.emplace(r.checkout_sent, -1);
  }
  size_t current = 0;
  size_t best = 0;
  for (const auto& [at, delta] : events) {
    // Equal times: the multimap keeps insertion order; count ends first is
    // not needed (a lower bound anyway).
    current = static_cast<size_t>(static_cast<long>(current) + delta);
    best = std::max(best, current);
  }
  return best;
}

}  // namespace tidegate::itest
