// Issue 14: a local reply (here the maintenance page) to a request whose
// body was not read discards a bounded body (Stream::kMaxDiscardBytes,
// 64 KiB) and keeps the connection for the next request; a larger body gets
// `Connection: close`.
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/harness/proxy_fixture.h"

namespace tidegate::itest {
namespace {

constexpr char kClosedCheckout[] =
    "\n[features.checkout]\n"
    "match = [{ path = \"^/checkout\" }]\n"
    "maintenance = { message = \"Checkout is being upgraded\", "
    "starts_at = 2020-01-01T00:00:00Z, until = 2199-01-01T00:00:00Z }\n";

class BodyDiscardTest : public ProxyTest {
 protected:
  void SetUp() override {
    StartWithDemoShop({}, {}, kClosedCheckout);
    ASSERT_TRUE(Started());
  }

  static std::string Post(const std::string& path, size_t body_bytes,
                          const std::string& extra = "") {
    return "POST " + path + " HTTP/1.1\r\nHost: shop.test\r\nContent-Type: text/plain\r\n" + extra +
           "Content-Length: " + std::to_string(body_bytes) + "\r\n\r\n";
  }
};

TEST_F(BodyDiscardTest, SmallUnreadBodyIsDiscardedAndTheConnectionServesTheNextRequest) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  // The head first: the maintenance gate answers before any body byte.
  ASSERT_TRUE(conn->Send(Post("/checkout", 10 * 1024)));
  HttpMessage blocked = ReadResponse(*conn);
  ASSERT_TRUE(blocked.ok) << blocked.error;
  EXPECT_EQ(blocked.status, 503) << Printable(blocked.raw);
  EXPECT_NE(blocked.Header("Connection").value_or(""), "close") << Printable(blocked.raw);
  // Then the body, and a second request on the same connection.
  ASSERT_TRUE(conn->Send(std::string(10 * 1024, 'x')));
  ASSERT_TRUE(conn->Send("GET /echo HTTP/1.1\r\nHost: shop.test\r\n\r\n"));
  HttpMessage next = ReadResponse(*conn);
  ASSERT_TRUE(next.ok) << next.error;
  EXPECT_EQ(next.status, 200) << Printable(next.raw);
  // The origin never saw the discarded bytes as a request.
  EXPECT_NE(next.body.find("GET /echo HTTP/1.1"), std::string::npos) << Printable(next.body);
}

TEST_F(BodyDiscardTest, BodyAndNextRequestSentTogether) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(Post("/checkout", 10 * 1024) + std::string(10 * 1024, 'y') +
                         "GET /echo HTTP/1.1\r\nHost: shop.test\r\n\r\n"));
  HttpMessage blocked = ReadResponse(*conn);
  ASSERT_TRUE(blocked.ok) << blocked.error;
  EXPECT_EQ(blocked.status, 503);
  HttpMessage next = ReadResponse(*conn);
  ASSERT_TRUE(next.ok) << next.error;
  EXPECT_EQ(next.status, 200) << Printable(next.raw);
}

TEST_F(BodyDiscardTest, ChunkedSmallBodyIsDiscardedToo) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(
      conn->Send("POST /checkout HTTP/1.1\r\nHost: shop.test\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "400\r\n" +
                 std::string(1024, 'z') + "\r\n400\r\n" + std::string(1024, 'z') +
                 "\r\n0\r\n\r\nGET /echo HTTP/1.1\r\nHost: shop.test\r\n\r\n"));
  HttpMessage blocked = ReadResponse(*conn);
  ASSERT_TRUE(blocked.ok) << blocked.error;
  EXPECT_EQ(blocked.status, 503);
  HttpMessage next = ReadResponse(*conn);
  ASSERT_TRUE(next.ok) << next.error;
  EXPECT_EQ(next.status, 200) << Printable(next.raw);
}

TEST_F(BodyDiscardTest, LargeUnreadBodyGetsConnectionClose) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(Post("/checkout", 10 * 1024 * 1024) + std::string(16 * 1024, 'x')));
  HttpMessage blocked = ReadResponse(*conn);
  ASSERT_TRUE(blocked.ok) << blocked.error;
  EXPECT_EQ(blocked.status, 503);
  EXPECT_EQ(blocked.Header("Connection").value_or(""), "close") << Printable(blocked.raw);
  ReadStatus end = conn->ReadUntilClose(std::chrono::seconds(10));
  EXPECT_NE(end, ReadStatus::kTimeout) << "the connection stayed open";
}

// A chunked body that goes on past the bound: the answer is complete, then
// the connection closes (no second answer, no body bytes read as requests).
TEST_F(BodyDiscardTest, ChunkedBodyPastTheBoundClosesAfterTheAnswer) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(
      "POST /checkout HTTP/1.1\r\nHost: shop.test\r\nTransfer-Encoding: chunked\r\n\r\n"));
  HttpMessage blocked = ReadResponse(*conn);
  ASSERT_TRUE(blocked.ok) << blocked.error;
  EXPECT_EQ(blocked.status, 503);
  std::string chunk = "4000\r\n" + std::string(0x4000, 'c') + "\r\n";
  for (int i = 0; i < 8 && conn->Send(chunk); ++i) {
  }
  ReadStatus end = conn->ReadUntilClose(std::chrono::seconds(10));
  EXPECT_NE(end, ReadStatus::kTimeout) << "the connection stayed open";
  EXPECT_EQ(conn->buffer().find("HTTP/1.1"), std::string::npos) << Printable(conn->buffer());
}

// Expect: 100-continue without a 100: the client may never send the body,
// so the connection cannot wait for it.
TEST_F(BodyDiscardTest, UnansweredExpectContinueCloses) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(Post("/checkout", 100, "Expect: 100-continue\r\n")));
  HttpMessage blocked = ReadResponse(*conn);
  ASSERT_TRUE(blocked.ok) << blocked.error;
  EXPECT_EQ(blocked.status, 503);
  EXPECT_EQ(blocked.Header("Connection").value_or(""), "close") << Printable(blocked.raw);
}

}  // namespace
}  // namespace tidegate::itest
