#include "proxy/socket_io.h"

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "proxy/libevent_handles.h"

namespace tidegate::proxy {
namespace {

std::string Contents(evbuffer* buffer) {
  std::string out(evbuffer_get_length(buffer), '\0');
  evbuffer_copyout(buffer, out.data(), out.size());
  return out;
}

// A non-blocking socket pair: fds_[0] is read by the code under test.
class SocketIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0);
    ASSERT_EQ(fcntl(fds_[0], F_SETFL, O_NONBLOCK), 0);
  }
  void TearDown() override {
    close(fds_[0]);
    if (fds_[1] >= 0) close(fds_[1]);
  }
  void Send(const std::string& bytes) {
    ASSERT_EQ(write(fds_[1], bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }

  int fds_[2] = {-1, -1};
  EvbufferPtr input_{evbuffer_new()};
};

TEST_F(SocketIoTest, ReadForParseOntoTheStackLeavesTheInputAlone) {
  Send("GET / HTTP/1.1\r\n\r\n");
  char stack[64];
  size_t n = 0;
  ASSERT_EQ(ReadForParse(input_.get(), fds_[0], stack, sizeof(stack), &n), IoResult::kOk);
  EXPECT_EQ(std::string(stack, n), "GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(evbuffer_get_length(input_.get()), 0u);
}

TEST_F(SocketIoTest, ReadForParseWithoutStackAppendsToTheInput) {
  evbuffer_add(input_.get(), "abc", 3);
  Send("def");
  size_t n = 0;
  ASSERT_EQ(ReadForParse(input_.get(), fds_[0], nullptr, 64, &n), IoResult::kOk);
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(Contents(input_.get()), "abcdef");
}

TEST_F(SocketIoTest, ReadForParseTakesAtMostMax) {
  Send("0123456789");
  char stack[64];
  size_t n = 0;
  ASSERT_EQ(ReadForParse(input_.get(), fds_[0], stack, 4, &n), IoResult::kOk);
  EXPECT_EQ(std::string(stack, n), "0123");
  ASSERT_EQ(ReadForParse(input_.get(), fds_[0], nullptr, 4, &n), IoResult::kOk);
  EXPECT_EQ(Contents(input_.get()), "4567");
}

TEST_F(SocketIoTest, ReadForParseReportsWouldBlockAndEof) {
  char stack[16];
  size_t n = 0;
  EXPECT_EQ(ReadForParse(input_.get(), fds_[0], stack, sizeof(stack), &n), IoResult::kWouldBlock);
  EXPECT_EQ(ReadForParse(input_.get(), fds_[0], nullptr, sizeof(stack), &n), IoResult::kWouldBlock);
  close(fds_[1]);
  fds_[1] = -1;
  EXPECT_EQ(ReadForParse(input_.get(), fds_[0], stack, sizeof(stack), &n), IoResult::kEof);
  EXPECT_EQ(ReadForParse(input_.get(), fds_[0], nullptr, sizeof(stack), &n), IoResult::kEof);
}

TEST_F(SocketIoTest, SettleParsedKeepsTheStackTail) {
  const char bytes[] = "first|second";
  SettleParsed(input_.get(), bytes, 12, 6, /*from_stack=*/true);
  EXPECT_EQ(Contents(input_.get()), "second");
  // Everything parsed: nothing kept.
  SettleParsed(input_.get(), bytes, 12, 12, /*from_stack=*/true);
  EXPECT_EQ(Contents(input_.get()), "second");
}

TEST_F(SocketIoTest, SettleParsedDrainsWhatWasParsedFromTheInput) {
  evbuffer_add(input_.get(), "first|second", 12);
  const char* data = nullptr;
  size_t len = 0;
  ASSERT_TRUE(FirstPiece(input_.get(), &data, &len));
  ASSERT_EQ(len, 12u);
  SettleParsed(input_.get(), data, len, 6, /*from_stack=*/false);
  EXPECT_EQ(Contents(input_.get()), "second");
}

TEST_F(SocketIoTest, FirstPieceOfAnEmptyBuffer) {
  const char* data = nullptr;
  size_t len = 0;
  EXPECT_FALSE(FirstPiece(input_.get(), &data, &len));
}

TEST_F(SocketIoTest, FlushDirectWritesUntilTheSocketIsFull) {
  EventBasePtr base(event_base_new());
  BuffereventPtr bev(bufferevent_socket_new(base.get(), fds_[0], 0));
  ASSERT_TRUE(bev);
  DirectIo io;
  evbuffer_add(bufferevent_get_output(bev.get()), "hello", 5);
  ASSERT_EQ(FlushDirect(bev.get(), &io), IoResult::kOk);
  EXPECT_FALSE(io.write_pending);
  EXPECT_EQ(evbuffer_get_length(bufferevent_get_output(bev.get())), 0u);
  char got[8];
  ASSERT_EQ(read(fds_[1], got, sizeof(got)), 5);
  EXPECT_EQ(std::string(got, 5), "hello");

  // Nobody reads the peer: the socket fills, the bufferevent takes over.
  std::string block(256 * 1024, 'x');
  IoResult result = IoResult::kOk;
  for (int i = 0; i < 64 && result == IoResult::kOk; ++i) {
    evbuffer_add(bufferevent_get_output(bev.get()), block.data(), block.size());
    result = FlushDirect(bev.get(), &io);
  }
  EXPECT_EQ(result, IoResult::kWouldBlock);
  EXPECT_TRUE(io.write_pending);
  EXPECT_TRUE(bufferevent_get_enabled(bev.get()) & EV_WRITE);
  EndPendingWrite(bev.get(), &io);
  EXPECT_FALSE(io.write_pending);
  EXPECT_FALSE(bufferevent_get_enabled(bev.get()) & EV_WRITE);
}

}  // namespace
}  // namespace tidegate::proxy
