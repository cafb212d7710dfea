#include "proxy/gathered_write.h"

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "proxy/libevent_handles.h"

namespace tidegate::proxy {
namespace {

// Peeks (evbuffer_copyout refuses a buffer whose start is frozen).
std::string Contents(evbuffer* buffer) {
  std::string out;
  int n = evbuffer_peek(buffer, -1, nullptr, nullptr, 0);
  std::vector<evbuffer_iovec> vec(static_cast<size_t>(n));
  evbuffer_peek(buffer, -1, nullptr, vec.data(), n);
  for (const evbuffer_iovec& v : vec) out.append(static_cast<const char*>(v.iov_base), v.iov_len);
  return out;
}

// A non-blocking socket pair: fds_[0] is written by the code under test,
// through the output buffer of a bufferevent on it (as a client connection
// holds it: its start frozen by libevent outside its callbacks).
class GatheredWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);  // as the server does
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0);
    ASSERT_EQ(fcntl(fds_[0], F_SETFL, O_NONBLOCK), 0);
    ASSERT_EQ(fcntl(fds_[1], F_SETFL, O_NONBLOCK), 0);
    base_.reset(event_base_new());
    bev_.reset(bufferevent_socket_new(base_.get(), fds_[0], 0));
    ASSERT_NE(bev_, nullptr);
    out_ = bufferevent_get_output(bev_.get());
  }
  void TearDown() override {
    bev_.reset();
    base_.reset();
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
  // Queues `chains` separate chains of `each` bytes in the output (as a
  // head and chunk framing queued before the body), returns their bytes.
  std::string Queue(int chains, size_t each) {
    std::string all;
    for (int i = 0; i < chains; ++i) {
      std::string chain(each, static_cast<char>('0' + i % 10));
      // evbuffer_add_reference keeps each in its own chain.
      held_[i] = chain;
      evbuffer_add_reference(out_, held_[i].data(), held_[i].size(), nullptr, nullptr);
      all += chain;
    }
    return all;
  }
  // Fills the socket until it takes nothing more.
  void FillSocket() {
    std::string filler(65536, 'x');
    while (write(fds_[0], filler.data(), filler.size()) > 0) {
    }
    ASSERT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK);
  }

  int fds_[2] = {-1, -1};
  std::unique_ptr<event_base, decltype(&event_base_free)> base_{nullptr, &event_base_free};
  BuffereventPtr bev_;
  evbuffer* out_ = nullptr;
  std::string parts_[3];
  std::string held_[16];
  iovec iov_[3];
};

TEST_F(GatheredWriteTest, AWholeWriteLeavesNothingBehind) {
  MakePieces(100);
  EXPECT_EQ(WriteGathered(fds_[0], out_, iov_, 3), IoResult::kOk);
  EXPECT_EQ(evbuffer_get_length(out_), 0u);
  EXPECT_EQ(Received(), All());
}

// The queued bytes (a response head) go first, in the same call, and leave
// the buffer.
TEST_F(GatheredWriteTest, QueuedBytesGoFirstAndAreDrained) {
  std::string queued = Queue(2, 150);
  MakePieces(100);
  EXPECT_EQ(WriteGathered(fds_[0], out_, iov_, 3), IoResult::kOk);
  EXPECT_EQ(evbuffer_get_length(out_), 0u);
  EXPECT_EQ(Received(), queued + All());
  // The buffer still works as a bufferevent's output: its start is frozen
  // again (a drain outside the bufferevent fails).
  evbuffer_add(out_, "x", 1);
  EXPECT_NE(evbuffer_drain(out_, 1), 0);
}

// The socket takes part of the pieces: the rest, from the exact byte where
// the kernel stopped (inside a piece), waits in the output, in order.
TEST_F(GatheredWriteTest, APartialWriteKeepsTheRestInOrder) {
  int small = 4096;
  ASSERT_EQ(setsockopt(fds_[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  std::string queued = Queue(1, 300);
  MakePieces(400 * 1024);
  EXPECT_EQ(WriteGathered(fds_[0], out_, iov_, 3), IoResult::kWouldBlock);
  std::string sent = Received();
  ASSERT_GT(sent.size(), queued.size());
  ASSERT_LT(sent.size(), queued.size() + All().size());
  EXPECT_EQ(sent + Contents(out_), queued + All());
}

// The socket takes only part of the queued bytes: the unwritten queued
// bytes stay first, every piece follows.
TEST_F(GatheredWriteTest, APartialWriteInsideTheQueuedBytes) {
  int small = 4096;
  ASSERT_EQ(setsockopt(fds_[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  std::string queued = Queue(2, 300 * 1024);
  MakePieces(1000);
  EXPECT_EQ(WriteGathered(fds_[0], out_, iov_, 3), IoResult::kWouldBlock);
  std::string sent = Received();
  ASSERT_GT(sent.size(), 0u);
  ASSERT_LT(sent.size(), queued.size());
  EXPECT_EQ(sent + Contents(out_), queued + All());
}

TEST_F(GatheredWriteTest, AFullSocketKeepsEverything) {
  FillSocket();
  std::string queued = Queue(1, 200);
  MakePieces(1000);
  EXPECT_EQ(WriteGathered(fds_[0], out_, iov_, 3), IoResult::kWouldBlock);
  EXPECT_EQ(Contents(out_), queued + All());
}

// More queued chains than one call gathers: the pieces are copied behind
// them and the buffer is written whole, still in order.
TEST_F(GatheredWriteTest, ManyQueuedChainsAreWrittenInOrder) {
  std::string queued = Queue(kMaxQueuedPieces + 3, 50);
  MakePieces(100);
  EXPECT_EQ(WriteGathered(fds_[0], out_, iov_, 3), IoResult::kOk);
  EXPECT_EQ(evbuffer_get_length(out_), 0u);
  EXPECT_EQ(Received(), queued + All());
}

// A failed socket: every byte is kept, so that the flush that follows meets
// the error and closes the connection.
TEST_F(GatheredWriteTest, AFailedSocketIsReportedWithEverythingKept) {
  close(fds_[1]);
  fds_[1] = -1;
  std::string queued = Queue(1, 200);
  MakePieces(1000);
  EXPECT_EQ(WriteGathered(fds_[0], out_, iov_, 3), IoResult::kError);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_EQ(Contents(out_), queued + All());
}

}  // namespace
}  // namespace tidegate::proxy
