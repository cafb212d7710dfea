#include "tests/integration/harness/webhook_receiver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>

namespace tidegate::itest {
namespace {

// Reads until `want` returns true, EOF, or 5 s; false on timeout/EOF first.
bool ReadMore(int fd, std::string* buffer) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, 5000) <= 0) return false;
  char chunk[16384];
  ssize_t n = read(fd, chunk, sizeof chunk);
  if (n <= 0) return false;
  buffer->append(chunk, static_cast<size_t>(n));
  return true;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

bool WebhookReceiver::Start() {
  if (running()) return true;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port_);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(fd, 64) != 0) {
    close(fd);
    return false;
  }
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  listen_fd_ = fd;
  stop_ = false;
  thread_ = std::thread([this, fd] { Serve(fd); });
  return true;
}

void WebhookReceiver::Stop() {
  if (!running()) return;
  stop_ = true;
  thread_.join();
  close(listen_fd_);
  listen_fd_ = -1;
}

void WebhookReceiver::Serve(int listen_fd) {
  while (!stop_) {
    pollfd p{listen_fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    Handle(fd);
    close(fd);
  }
}

void WebhookReceiver::Handle(int fd) {
  std::string buffer;
  size_t head_end;
  while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (!ReadMore(fd, &buffer)) return;
  }
  WebhookRequest request;
  std::string head = buffer.substr(0, head_end);
  size_t line_end = head.find("\r\n");
  std::string line = head.substr(0, line_end);
  request.method = line.substr(0, line.find(' '));
  request.target = line.substr(line.find(' ') + 1);
  request.target = request.target.substr(0, request.target.find(' '));
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string::npos) end = head.size();
    std::string field = head.substr(pos, end - pos);
    size_t colon = field.find(':');
    if (colon != std::string::npos) {
      std::string value = field.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      request.headers[Lower(field.substr(0, colon))] = value;
    }
    pos = end + 2;
  }
  size_t length = 0;
  auto it = request.headers.find("content-length");
  if (it != request.headers.end()) length = std::stoul(it->second);
  while (buffer.size() < head_end + 4 + length) {
    if (!ReadMore(fd, &buffer)) return;
  }
  request.body = buffer.substr(head_end + 4, length);
  int status = status_.load();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    received_.push_back(std::move(request));
  }
  std::string reply =
      "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  (void)!write(fd, reply.data(), reply.size());
}

std::vector<WebhookRequest> WebhookReceiver::Received() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return received_;
}

bool WebhookReceiver::WaitFor(const std::function<bool(const std::vector<WebhookRequest>&)>& done,
                              std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (done(Received())) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace tidegate::itest
