#include "proxy/gathered_write.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "proxy/libevent_handles.h"

namespace tidegate::proxy {
namespace {

std::string Contents(evbuffer* buffer) {
  std::string out(evbuffer_get_length(buffer), '\0');
  evbuffer_copyout(buffer, out.data(), out.size());
  return out;
}

// A non-blocking socket pair: fds_[0] is written by the code under test.
class GatheredWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);  // as the server does
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0);
    ASSERT_EQ(fcntl(fds_[0], F_SETFL, O_NONBLOCK), 0);
    ASSERT_EQ(fcntl(fds_[1], F_SETFL, O_NONBLOCK), 0);
  }
  void TearDown() override {
    close(fds_[0]);
    if (fds_[1] >= 0) close(fds_[1]);
  }
  // Everything the peer can read now.
  std::string Received() {
    std::string out;
    char buf[65536];
    ssize_t n;
    while ((n = read(fds_[1], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
  }
  // Three pieces of `each` bytes, told apart by their letters.
  void MakePieces(size_t each) {
    for (int i = 0; i < 3; ++i) {
      parts_[i] = std::string(each, static_cast<char>('a' + i));
      parts_[i][0] = static_cast<char>('A' + i);
      iov_[i].iov_base = parts_[i].data();
      iov_[i].iov_len = parts_[i].size();
    }
  }
  std::string All() const { return parts_[0] + parts_[1] + parts_[2]; }

  int fds_[2] = {-1, -1};
  std::string parts_[3];
  iovec iov_[3];
  EvbufferPtr rest_{evbuffer_new()};
};

TEST_F(GatheredWriteTest, AWholeWriteLeavesNothingBehind) {
  MakePieces(100);
  EXPECT_EQ(WriteGathered(fds_[0], iov_, 3, rest_.get()), IoResult::kOk);
  EXPECT_EQ(evbuffer_get_length(rest_.get()), 0u);
  EXPECT_EQ(Received(), All());
}

// The socket takes part of the pieces: the rest, from the exact byte where
// the kernel stopped (inside a piece), waits in `rest`, in order.
TEST_F(GatheredWriteTest, APartialWriteKeepsTheRestInOrder) {
  int small = 4096;
  ASSERT_EQ(setsockopt(fds_[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  MakePieces(400 * 1024);
  EXPECT_EQ(WriteGathered(fds_[0], iov_, 3, rest_.get()), IoResult::kWouldBlock);
  std::string sent = Received();
  ASSERT_GT(sent.size(), 0u);
  ASSERT_LT(sent.size(), All().size());
  EXPECT_EQ(sent + Contents(rest_.get()), All());
}

TEST_F(GatheredWriteTest, AFullSocketKeepsEverything) {
  std::string filler(65536, 'x');
  while (write(fds_[0], filler.data(), filler.size()) > 0) {
  }
  ASSERT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK);
  MakePieces(1000);
  EXPECT_EQ(WriteGathered(fds_[0], iov_, 3, rest_.get()), IoResult::kWouldBlock);
  EXPECT_EQ(Contents(rest_.get()), All());
}

// A failed socket: every byte is kept, so that the flush that follows meets
// the error and closes the connection.
TEST_F(GatheredWriteTest, AFailedSocketIsReportedWithEverythingKept) {
  close(fds_[1]);
  fds_[1] = -1;
  MakePieces(1000);
  EXPECT_EQ(WriteGathered(fds_[0], iov_, 3, rest_.get()), IoResult::kError);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_EQ(Contents(rest_.get()), All());
}

}  // namespace
}  // namespace tidegate::proxy
