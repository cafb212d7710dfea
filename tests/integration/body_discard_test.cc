// Issue 14: a local reply (here the maintenance page) to a request whose
// body was not read discards a bounded body (Stream::kMaxDiscardBytes,
// 64 KiB) and keeps the connection for the next request; a larger body gets
// `Connection: close`.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "tests/integration/harness/proxy_fixture.h"

namespace tidegate::itest {
namespace {

// Checkout under maintenance, and a room that queues everyone on /drop:
// two gates that answer from the request head alone.
constexpr char kClosedCheckout[] =
    "\n[features.checkout]\n"
    "match = [{ path = \"^/checkout\" }]\n"
    "maintenance = { message = \"Checkout is being upgraded\", "
    "starts_at = 2020-01-01T00:00:00Z, until = 2199-01-01T00:00:00Z }\n"
    "\n[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n"
    "\n[rooms.drop]\nmatch = [\"^/drop\"]\nmode = \"queue_all\"\n"
    "total_active_users = 1\nnew_users_per_minute = 1\nmax_tickets_per_ip_per_minute = 0\n";

class BodyDiscardTest : public ProxyTest {
 protected:
  void SetUp() override {
    std::ofstream(dir_.File("k1")) << "body-discard-test-key-0123456789abcdef0123\n";
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

// Case 6 behind an early answer: a gate (the maintenance page, the queue
// page) answers from the head; the chunked body that follows is malformed.
// Exactly one response, then the connection closes (well before the
// discard timeout): the body error never adds a second answer (a 400),
// whether the bad bytes come in the same packet as the head (the gate
// answers inside the parse that then fails) or after the answer. With an
// unanswered 100-continue the answer says `Connection: close` (case 13);
// without, it is the answer a good body gets.
TEST_F(BodyDiscardTest, Case06_BadChunkAfterAnEarlyAnswerClosesWithoutASecondResponse) {
  const std::vector<std::string> bad_bodies = {
      "Z\r\n\r\n",
      "ZZ\r\n",
      "0x5\r\nhello\r\n0\r\n\r\n",
      "-5\r\nhello\r\n0\r\n\r\n",
      "10000000000000005\r\nhello\r\n0\r\n\r\n",  // overflows 64 bits
      "FFFFFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n",
      "5\nhello\n0\n\n",                   // bare LF
      "5\rhello\r0\r\r",                   // bare CR
      "5\r\nhello\n0\r\n\r\n",             // bare LF after data
      "5;ext=\x01\r\nhello\r\n0\r\n\r\n",  // control byte in the extension
      "5;ext\x7f\r\nhello\r\n0\r\n\r\n",
      "5\r\nhelloXX0\r\n\r\n",  // no CRLF after data
  };
  struct Gate {
    std::string path;
    int status;
    std::string extra;
  };
  const std::vector<Gate> gates = {
      {"/checkout", 503, ""},
      {"/drop/sneakers", 200, ""},
      {"/checkout", 503, "Expect: 100-continue\r\n"},
  };
  const std::string next = "GET /echo HTTP/1.1\r\nHost: shop.test\r\n\r\n";
  for (const Gate& gate : gates) {
    const std::string head = "POST " + gate.path + " HTTP/1.1\r\nHost: shop.test\r\n" + gate.extra +
                             "Transfer-Encoding: chunked\r\n\r\n";
    for (bool same_packet : {true, false}) {
      for (const std::string& bad : bad_bodies) {
        SCOPED_TRACE(Printable(head + bad) + (same_packet ? " (one packet)" : " (body later)"));
        auto conn = Connect();
        ASSERT_TRUE(conn);
        HttpMessage answer;
        if (same_packet) {
          ASSERT_TRUE(conn->Send(head + bad + next));
          answer = ReadResponse(*conn);
        } else {
          ASSERT_TRUE(conn->Send(head));
          answer = ReadResponse(*conn);
          conn->Send(bad + next);  // the proxy may already close (after a Connection: close)
        }
        ASSERT_TRUE(answer.ok) << answer.error;
        EXPECT_EQ(answer.status, gate.status) << Printable(answer.raw);
        if (!gate.extra.empty()) {
          EXPECT_EQ(answer.Header("Connection").value_or(""), "close") << Printable(answer.raw);
        }
        ReadStatus end = conn->ReadUntilClose(std::chrono::milliseconds(2000));
        EXPECT_TRUE(end == ReadStatus::kClosed || end == ReadStatus::kReset) << ToString(end);
        EXPECT_EQ(conn->buffer(), "") << "a second response";
      }
    }
  }
  // The proxy still serves.
  HttpMessage ok = RoundTrip(next);
  ASSERT_TRUE(ok.ok) << ok.error;
  EXPECT_EQ(ok.status, 200);
}

}  // namespace
}  // namespace tidegate::itest
