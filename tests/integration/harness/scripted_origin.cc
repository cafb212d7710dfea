#include "tests/integration/harness/scripted_origin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tidegate::itest {
namespace {

using Clock = std::chrono::steady_clock;

int ListenLoopback(int backlog, uint16_t* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, backlog) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

}  // namespace

OriginConnection::OriginConnection(int fd, ScriptedOrigin* origin, int index)
    : RawConnection(fd), origin_(origin), index_(index) {}

HttpMessage OriginConnection::ReadRequest(milliseconds timeout) {
  HttpMessage msg = itest::ReadRequest(*this, timeout);
  if (msg.ok) origin_->CountRequest(msg);
  return msg;
}

bool OriginConnection::WaitForClose(milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!peer_closed() && !stopping() && Clock::now() < deadline) {
    ReadStatus s = ReadMore(milliseconds(50));
    if (s == ReadStatus::kError) break;
  }
  return peer_closed();
}

bool OriginConnection::stopping() const { return origin_->stopping(); }

void OriginConnection::OnReceived(std::string_view data) { origin_->Note(index_, data, false); }

void OriginConnection::OnPeerClosed(bool reset) { origin_->Note(index_, {}, true); }

ScriptedOrigin::ScriptedOrigin(Script script) : script_(std::move(script)) {
  listen_fd_ = ListenLoopback(512, &port_);
  if (listen_fd_ < 0) {
    ADD_FAILURE() << "ScriptedOrigin: cannot listen on 127.0.0.1:0";
    return;
  }
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

ScriptedOrigin::~ScriptedOrigin() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    for (Record& r : records_) {
      if (r.fd >= 0) shutdown(r.fd, SHUT_RDWR);
    }
  }
  cv_.notify_all();
  if (acceptor_.joinable()) acceptor_.join();
  for (std::thread& t : threads_) t.join();
  if (listen_fd_ >= 0) close(listen_fd_);
}

void ScriptedOrigin::AcceptLoop() {
  while (!stop_) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (poll(&pfd, 1, 50) <= 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int index;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) {
        close(fd);
        break;
      }
      index = static_cast<int>(records_.size());
      records_.emplace_back();
      records_.back().fd = fd;
    }
    cv_.notify_all();
    threads_.emplace_back([this, fd, index] {
      {
        OriginConnection conn(fd, this, index);
        script_(conn);
        std::lock_guard<std::mutex> lock(mu_);
        records_[index].fd = -1;
      }  // conn closes the socket here
      cv_.notify_all();
    });
  }
}

void ScriptedOrigin::Note(int index, std::string_view data, bool closed) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    records_[index].received.append(data);
    if (closed) records_[index].peer_closed = true;
  }
  cv_.notify_all();
}

void ScriptedOrigin::CountRequest(const HttpMessage& request) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++requests_;
    request_lines_.push_back(request.method + " " + request.url);
  }
  cv_.notify_all();
}

int ScriptedOrigin::accepted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(records_.size());
}

int ScriptedOrigin::requests_seen() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

std::vector<std::string> ScriptedOrigin::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return request_lines_;
}

std::string ScriptedOrigin::Received(int index) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (index < 0 || index >= static_cast<int>(records_.size())) return "";
  return records_[index].received;
}

std::string ScriptedOrigin::AllReceived() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string all;
  for (const Record& r : records_) all += r.received;
  return all;
}

bool ScriptedOrigin::PeerClosed(int index) const {
  std::lock_guard<std::mutex> lock(mu_);
  return index >= 0 && index < static_cast<int>(records_.size()) && records_[index].peer_closed;
}

bool ScriptedOrigin::WaitAccepted(int n, milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return static_cast<int>(records_.size()) >= n; });
}

bool ScriptedOrigin::WaitPeerClosed(int index, milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] {
    return index < static_cast<int>(records_.size()) &&
           (records_[index].peer_closed || records_[index].fd < 0);
  }) && records_[index].peer_closed;
}

bool ScriptedOrigin::WaitRequests(int n, milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return requests_ >= n; });
}

void ScriptedOrigin::WaitForStop(milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return stop_.load(); });
}

std::string ResponseBytes(int status, std::string_view body, std::string_view extra) {
  std::string out = "HTTP/1.1 " + std::to_string(status) +
                    " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  out += extra;
  out += "\r\n";
  out += body;
  return out;
}

ScriptedOrigin::Script ServeOkForever() {
  return [](OriginConnection& conn) {
    while (!conn.stopping()) {
      HttpMessage req = conn.ReadRequest(milliseconds(30000));
      if (!req.ok) return;
      if (!conn.Send(ResponseBytes(200, "ok:" + req.url))) return;
    }
  };
}

BlackholeOrigin::BlackholeOrigin() {
  listen_fd_ = ListenLoopback(0, &port_);
  if (listen_fd_ < 0) return;
  // Fill the accept queue (backlog 0 still admits one or two): once it is
  // full, the kernel drops further SYNs and a connect() just hangs.
  for (int i = 0; i < 16; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int r = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    fillers_.push_back(fd);
    if (r == 0) continue;
    pollfd pfd{fd, POLLOUT, 0};
    if (poll(&pfd, 1, 200) == 0) {
      ok_ = true;  // this connect hangs: the queue is full
      return;
    }
  }
}

BlackholeOrigin::~BlackholeOrigin() {
  for (int fd : fillers_) close(fd);
  if (listen_fd_ >= 0) close(listen_fd_);
}

}  // namespace tidegate::itest
