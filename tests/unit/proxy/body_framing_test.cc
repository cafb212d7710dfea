#include "proxy/body_framing.h"

#include <gtest/gtest.h>

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
  AddBody(out.get(), "hello, world!!!!!", 17, /*chunked=*/true);
  EXPECT_EQ(Contents(out.get()), "11\r\nhello, world!!!!!\r\n");
}

TEST(BodyFramingTest, AddBodyUnchunkedWritesDataAsItIs) {
  EvbufferPtr out(evbuffer_new());
  AddBody(out.get(), "abc", 3, /*chunked=*/false);
  EXPECT_EQ(Contents(out.get()), "abc");
}

TEST(BodyFramingTest, MoveBodyChunkedEmptiesTheSource) {
  EvbufferPtr out(evbuffer_new());
  EvbufferPtr body(evbuffer_new());
  evbuffer_add(out.get(), "head;", 5);
  std::string big(300, 'x');
  evbuffer_add(body.get(), big.data(), big.size());
  MoveBody(out.get(), body.get(), /*chunked=*/true);
  EXPECT_EQ(Contents(out.get()), "head;12c\r\n" + big + "\r\n");
  EXPECT_EQ(evbuffer_get_length(body.get()), 0u);
}

TEST(BodyFramingTest, MoveBodyUnchunked) {
  EvbufferPtr out(evbuffer_new());
  EvbufferPtr body(evbuffer_new());
  evbuffer_add(body.get(), "xyz", 3);
  MoveBody(out.get(), body.get(), /*chunked=*/false);
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

}  // namespace
}  // namespace tidegate::proxy
