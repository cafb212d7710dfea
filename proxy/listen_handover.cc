#include "proxy/listen_handover.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tidegate::proxy {
namespace {

// SCM_MAX_FD is 253; stay well below it per message.
constexpr size_t kFdsPerMessage = 64;
constexpr size_t kMaxMessage = 64 * 1024;
constexpr char kBatchTag = 'F';
constexpr char kEndTag = 'E';

using Clock = std::chrono::steady_clock;

bool SendOne(int channel, const std::string& data, const int* fds, size_t count,
             std::string* error) {
  iovec iov{const_cast<char*>(data.data()), data.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kFdsPerMessage)];
  if (count > 0) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * count);
    memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * count);
  }
  ssize_t n;
  do {
    n = sendmsg(channel, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(data.size())) {
    *error = std::string("cannot send the listening sockets: ") +
             (n < 0 ? strerror(errno) : "short write");
    return false;
  }
  return true;
}

// Splits "F\nkey\nkey\n" into keys; false when the tag is wrong.
bool ParseBatch(const char* data, size_t size, std::vector<std::string>* keys) {
  if (size < 2 || data[0] != kBatchTag || data[1] != '\n') return false;
  size_t start = 2;
  for (size_t i = 2; i < size; ++i) {
    if (data[i] != '\n') continue;
    keys->emplace_back(data + start, i - start);
    start = i + 1;
  }
  return start == size;
}

}  // namespace

std::string ShopListenKey(bool tls, const std::string& address_text) {
  return (tls ? "https " : "http ") + address_text;
}

std::string AdminListenKey(const std::string& address_text) { return "admin " + address_text; }

InheritedSockets::~InheritedSockets() { CloseRest(); }

void InheritedSockets::Add(const std::string& key, int fd) { fds_[key].push_back(fd); }

std::vector<int> InheritedSockets::Take(const std::string& key) {
  auto it = fds_.find(key);
  if (it == fds_.end()) return {};
  std::vector<int> out = std::move(it->second);
  fds_.erase(it);
  return out;
}

std::vector<std::string> InheritedSockets::CloseRest() {
  std::vector<std::string> keys;
  for (auto& [key, fds] : fds_) {
    for (int fd : fds) close(fd);
    keys.push_back(key);
  }
  fds_.clear();
  return keys;
}

size_t InheritedSockets::size() const {
  size_t n = 0;
  for (const auto& entry : fds_) n += entry.second.size();
  return n;
}

bool SendListenSockets(int channel, const std::vector<ListenSocket>& sockets, std::string* error) {
  for (size_t first = 0; first < sockets.size(); first += kFdsPerMessage) {
    size_t count = std::min(kFdsPerMessage, sockets.size() - first);
    std::string data{kBatchTag, '\n'};
    int fds[kFdsPerMessage];
    for (size_t i = 0; i < count; ++i) {
      const ListenSocket& socket = sockets[first + i];
      if (socket.key.find('\n') != std::string::npos) {
        *error = "listen key with a newline: " + socket.key;
        return false;
      }
      data += socket.key + "\n";
      fds[i] = socket.fd;
    }
    if (data.size() > kMaxMessage) {
      *error = "listen keys too long to hand over";
      return false;
    }
    if (!SendOne(channel, data, fds, count, error)) return false;
  }
  return SendOne(channel, std::string{kEndTag}, nullptr, 0, error);
}

bool ReceiveListenSockets(int channel, std::chrono::milliseconds timeout, InheritedSockets* out,
                          std::string* error) {
  const Clock::time_point deadline = Clock::now() + timeout;
  std::vector<char> data(kMaxMessage);
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kFdsPerMessage)];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{channel, POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      *error = ready == 0 ? "no listening sockets from the previous process in time"
                          : std::string("poll: ") + strerror(errno);
      return false;
    }
    iovec iov{data.data(), data.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t n = recvmsg(channel, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      *error = n == 0 ? "the previous process closed the handover channel"
                      : std::string("recvmsg: ") + strerror(errno);
      return false;
    }
    std::vector<int> fds;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      const int* received = reinterpret_cast<const int*>(CMSG_DATA(c));
      fds.insert(fds.end(), received, received + count);
    }
    std::vector<std::string> keys;
    bool end = n == 1 && data[0] == kEndTag;
    bool parsed = !end && ParseBatch(data.data(), static_cast<size_t>(n), &keys);
    if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || (!end && !parsed) ||
        keys.size() != fds.size()) {
      for (int fd : fds) close(fd);
      *error = "malformed handover message from the previous process";
      return false;
    }
    if (end) return true;
    for (size_t i = 0; i < keys.size(); ++i) out->Add(keys[i], fds[i]);
  }
}

}  // namespace tidegate::proxy
