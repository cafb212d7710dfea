#include "proxy/body_framing.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "proxy/libevent_handles.h"

namespace tidegate::proxy {
namespace {

std::string Contents(evbuffer* buffer) {
  std::string out(evbuffer_get_length(buffer), '\0');
  evbuffer_copyout(buffer, out.data(), out.size());
  return out;
}

TEST(BodyFramingTest, AddBodyChunkedWritesSizeLineDataAndCrlf) {
  EvbufferPtr out(evbuffer_new());
  EXPECT_EQ(AddBody(out.get(), "hello, world!!!!!", 17, /*chunked=*/true), 23u);
  EXPECT_EQ(Contents(out.get()), "11\r\nhello, world!!!!!\r\n");
}

TEST(BodyFramingTest, AddBodyUnchunkedWritesDataAsItIs) {
  EvbufferPtr out(evbuffer_new());
  EXPECT_EQ(AddBody(out.get(), "abc", 3, /*chunked=*/false), 3u);
  EXPECT_EQ(Contents(out.get()), "abc");
}

TEST(BodyFramingTest, MoveBodyChunkedEmptiesTheSource) {
  EvbufferPtr out(evbuffer_new());
  EvbufferPtr body(evbuffer_new());
  evbuffer_add(out.get(), "head;", 5);
  std::string big(300, 'x');
  evbuffer_add(body.get(), big.data(), big.size());
  // It returns the bytes it added: size line, data, CRLF.
  EXPECT_EQ(MoveBody(out.get(), body.get(), /*chunked=*/true), 5u + 300u + 2u);
  EXPECT_EQ(Contents(out.get()), "head;12c\r\n" + big + "\r\n");
  EXPECT_EQ(evbuffer_get_length(body.get()), 0u);
}

TEST(BodyFramingTest, MoveBodyUnchunked) {
  EvbufferPtr out(evbuffer_new());
  EvbufferPtr body(evbuffer_new());
  evbuffer_add(body.get(), "xyz", 3);
  EXPECT_EQ(MoveBody(out.get(), body.get(), /*chunked=*/false), 3u);
  EXPECT_EQ(Contents(out.get()), "xyz");
  EXPECT_EQ(evbuffer_get_length(body.get()), 0u);
}

TEST(BodyFramingTest, LastChunkAndContinue) {
  EvbufferPtr out(evbuffer_new());
  AddLastChunk(out.get());
  EXPECT_EQ(Contents(out.get()), "0\r\n\r\n");
  EvbufferPtr interim(evbuffer_new());
  AddContinue(interim.get());
  EXPECT_EQ(Contents(interim.get()), "HTTP/1.1 100 Continue\r\n\r\n");
}

TEST(BodyFramingTest, FormatChunkLineIsLowercaseHexWithCrlf) {
  char line[kChunkLineMax];
  EXPECT_EQ(std::string(line, FormatChunkLine(1, line)), "1\r\n");
  EXPECT_EQ(std::string(line, FormatChunkLine(0x6000, line)), "6000\r\n");
  EXPECT_EQ(std::string(line, FormatChunkLine(0xabcdef, line)), "abcdef\r\n");
  EXPECT_EQ(std::string(line, FormatChunkLine(SIZE_MAX, line)), std::string(16, 'f') + "\r\n");
}

std::string Joined(const iovec* pieces, int count) {
  std::string out;
  for (int i = 0; i < count; ++i)
    out.append(static_cast<const char*>(pieces[i].iov_base), pieces[i].iov_len);
  return out;
}

// The pieces say the same bytes as AddBody, and point at the data itself.
TEST(BodyFramingTest, FrameBodyMatchesAddBody) {
  std::string data(300, 'q');
  for (bool chunked : {true, false}) {
    char line[kChunkLineMax];
    iovec pieces[3];
    int count = FrameBody(data.data(), data.size(), chunked, line, pieces);
    EXPECT_EQ(count, chunked ? 3 : 1);
    EvbufferPtr out(evbuffer_new());
    AddBody(out.get(), data.data(), data.size(), chunked);
    EXPECT_EQ(Joined(pieces, count), Contents(out.get()));
    EXPECT_EQ(pieces[chunked ? 1 : 0].iov_base, data.data());
  }
}

}  // namespace
}  // namespace tidegate::proxy
