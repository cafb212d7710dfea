// proxy/listen_handover: listening sockets survive the trip over a unix
// SOCK_SEQPACKET channel (SCM_RIGHTS) as the same socket objects, keys and
// order kept, including more sockets than fit in one message.
#include "proxy/listen_handover.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace tidegate::proxy {
namespace {

using std::chrono::milliseconds;

int ListeningSocket(uint16_t* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(listen(fd, 16), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

uint16_t PortOf(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  return ntohs(addr.sin_port);
}

struct Channel {
  Channel() { EXPECT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0); }
  ~Channel() {
    close(fds[0]);
    close(fds[1]);
  }
  int fds[2] = {-1, -1};
};

TEST(ListenHandoverTest, KeysOfShopAndAdminSockets) {
  EXPECT_EQ(ShopListenKey(false, "127.0.0.1:8080"), "http 127.0.0.1:8080");
  EXPECT_EQ(ShopListenKey(true, "[::1]:8443"), "https [::1]:8443");
  EXPECT_EQ(AdminListenKey("unix:/run/tidegate.sock"), "admin unix:/run/tidegate.sock");
}

TEST(ListenHandoverTest, SameSocketsArriveUnderTheirKeysAcrossSeveralMessages) {
  std::vector<ListenSocket> sent;
  std::vector<uint16_t> ports;
  for (int i = 0; i < 70; ++i) {  // more than one message (64 per message)
    uint16_t port = 0;
    int fd = ListeningSocket(&port);
    ports.push_back(port);
    sent.push_back({i % 2 == 0 ? "http 127.0.0.1:a" : "admin unix:/x", fd});
  }
  // A connection queued in the old socket's backlog before the handover.
  int queued = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(ports[0]);
  ASSERT_EQ(connect(queued, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);

  Channel channel;
  std::string error;
  ASSERT_TRUE(SendListenSockets(channel.fds[0], sent, &error)) << error;
  InheritedSockets received;
  ASSERT_TRUE(ReceiveListenSockets(channel.fds[1], milliseconds(2000), &received, &error)) << error;
  EXPECT_EQ(received.size(), 70u);
  std::vector<int> http = received.Take("http 127.0.0.1:a");
  std::vector<int> admin = received.Take("admin unix:/x");
  ASSERT_EQ(http.size(), 35u);
  ASSERT_EQ(admin.size(), 35u);
  EXPECT_TRUE(received.empty());
  for (size_t i = 0; i < http.size(); ++i) {
    EXPECT_EQ(PortOf(http[i]), ports[2 * i]);  // order kept
    EXPECT_NE(fcntl(http[i], F_GETFD) & FD_CLOEXEC, 0);
  }
  // The old descriptors close; the queued connection is still there.
  for (const ListenSocket& s : sent) close(s.fd);
  int accepted = accept(http[0], nullptr, nullptr);
  EXPECT_GE(accepted, 0);
  close(accepted);
  close(queued);
  for (int fd : http) close(fd);
  for (int fd : admin) close(fd);
}

TEST(ListenHandoverTest, NothingToHandOverIsJustTheEndMarker) {
  Channel channel;
  std::string error;
  ASSERT_TRUE(SendListenSockets(channel.fds[0], {}, &error)) << error;
  InheritedSockets received;
  ASSERT_TRUE(ReceiveListenSockets(channel.fds[1], milliseconds(2000), &received, &error)) << error;
  EXPECT_TRUE(received.empty());
}

TEST(ListenHandoverTest, ClosedOrSilentOrGarbledChannelIsAnError) {
  std::string error;
  {
    Channel channel;
    InheritedSockets received;
    EXPECT_FALSE(ReceiveListenSockets(channel.fds[1], milliseconds(50), &received, &error));
    EXPECT_NE(error.find("in time"), std::string::npos) << error;
  }
  {
    Channel channel;
    shutdown(channel.fds[0], SHUT_RDWR);
    InheritedSockets received;
    EXPECT_FALSE(ReceiveListenSockets(channel.fds[1], milliseconds(2000), &received, &error));
    EXPECT_NE(error.find("closed"), std::string::npos) << error;
  }
  {
    Channel channel;
    ASSERT_EQ(send(channel.fds[0], "F\nonly-a-key-no-fd\n", 19, 0), 19);
    InheritedSockets received;
    EXPECT_FALSE(ReceiveListenSockets(channel.fds[1], milliseconds(2000), &received, &error));
    EXPECT_NE(error.find("malformed"), std::string::npos) << error;
  }
}

TEST(ListenHandoverTest, UntakenSocketsAreClosedAndNamed) {
  InheritedSockets set;
  uint16_t port = 0;
  int fd = ListeningSocket(&port);
  set.Add("http 127.0.0.1:1", fd);
  EXPECT_TRUE(set.Has("http 127.0.0.1:1"));
  EXPECT_EQ(set.CloseRest(), std::vector<std::string>{"http 127.0.0.1:1"});
  EXPECT_LT(fcntl(fd, F_GETFD), 0);  // closed
}

}  // namespace
}  // namespace tidegate::proxy
