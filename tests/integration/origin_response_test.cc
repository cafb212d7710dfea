// Reliability cases 15–17: origins that send too much, too little, or
// malformed framing.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness/proxy_fixture.h"
#include "tests/integration/harness/room_cookies.h"

namespace tidegate::itest {
namespace {

class OriginResponseTest : public ProxyTest {};

// Connection 0 answers its first request with `first`; every other request
// (and connection) gets a normal 200 "ok:<url>".
ScriptedOrigin::Script FirstAnswer(std::string first) {
  return [first](OriginConnection& conn) {
    bool answered_special = conn.index() != 0;
    while (!conn.stopping()) {
      HttpMessage req = conn.ReadRequest();
      if (!req.ok) return;
      if (!answered_special) {
        answered_special = true;
        conn.Send(first);
        continue;
      }
      conn.Send(ResponseBytes(200, "ok:" + req.url));
    }
  };
}

TEST_F(OriginResponseTest, Case15_MoreBytesThanContentLength) {
  StartWithOrigin(FirstAnswer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello" +
                              std::string("HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nINJECTED")));
  ASSERT_TRUE(Started());
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(Get("/one")));
  HttpMessage r = ReadResponse(*conn);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.body, "hello");
  // The next request on the same client connection must not get the
  // origin's leftover bytes, and must go to a fresh origin connection.
  ASSERT_TRUE(conn->Send(Get("/two")));
  HttpMessage r2 = ReadResponse(*conn);
  ASSERT_TRUE(r2.ok) << r2.error;
  EXPECT_EQ(r2.body, "ok:/two") << "the leftover bytes were served as a response";
  EXPECT_EQ(origin_->accepted(), 2) << "the origin connection with leftover bytes was reused";
  EXPECT_TRUE(origin_->WaitPeerClosed(0, milliseconds(5000)))
      << "the proxy kept the dirty origin connection open";
}

TEST_F(OriginResponseTest, Case16_OriginClosesBeforeContentLength) {
  StartWithOrigin([](OriginConnection& conn) {
    if (!conn.ReadRequest().ok) return;
    conn.Send(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100\r\n\r\n"
        "<html><body>0123");
    conn.Close();
  });
  ASSERT_TRUE(Started());
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(Get("/truncated")));
  HttpMessage r = ReadResponse(*conn);
  if (r.ok) {
    // Only acceptable complete answer: a 502 made before any byte was sent.
    EXPECT_EQ(r.status, 502) << "a truncated response was completed: " << Printable(r.raw);
  } else {
    EXPECT_TRUE(conn->peer_closed()) << r.error;
    // Nothing appended after the origin's 16 body bytes.
    std::string raw = conn->buffer();
    size_t head_end = raw.find("\r\n\r\n");
    ASSERT_NE(head_end, std::string::npos) << Printable(raw);
    EXPECT_EQ(raw.substr(head_end + 4), "<html><body>0123") << Printable(raw);
  }
}

TEST_F(OriginResponseTest, Case16_OriginClosesMidChunkedBody) {
  StartWithOrigin([](OriginConnection& conn) {
    if (!conn.ReadRequest().ok) return;
    conn.Send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n10\r\nshort");
    conn.Close();
  });
  ASSERT_TRUE(Started());
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(Get("/truncated")));
  HttpMessage r = ReadResponse(*conn);
  if (r.ok) {
    EXPECT_EQ(r.status, 502) << "a truncated chunked response was completed: " << Printable(r.raw);
  } else {
    EXPECT_TRUE(conn->peer_closed()) << r.error;
    EXPECT_EQ(conn->buffer().find("\r\n0\r\n\r\n"), std::string::npos)
        << "a last-chunk was appended: " << Printable(conn->buffer());
  }
}

// Each bad response comes in one write (head and bad body together): no
// byte of it reaches the client before the framing error shows, so the
// answer is always the proxy's 502, never a close with nothing sent.
TEST_F(OriginResponseTest, Case17_BadOriginFramingIs502) {
  const std::vector<std::string> bad = {
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: "
      "chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: "
      "5\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
      "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZ\r\nhello\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nhello\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0x5\r\n\r\n",
      // Whitespace after a size without an extension (audit 18 LOW-1).
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0 \r\n\r\n",
      "HTTP/1.1 200 OK\r\nBad Header: x\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
      "garbage\r\n\r\n",
  };
  StartWithOrigin([&](OriginConnection& conn) {
    if (!conn.ReadRequest().ok) return;
    conn.Send(bad[static_cast<size_t>(conn.index()) % bad.size()]);
    conn.Close();
  });
  ASSERT_TRUE(Started());
  for (size_t which = 0; which < bad.size(); ++which) {
    SCOPED_TRACE("origin response: \"" + Printable(bad[which]) + "\"");
    EXPECT_EQ(origin_->accepted(), static_cast<int>(which))
        << "the proxy retried a bad response or opened extra origin connections";
    auto conn = Connect();
    ASSERT_TRUE(conn);
    ASSERT_TRUE(conn->Send(Get("/bad")));
    HttpMessage r = ReadResponse(*conn);
    EXPECT_TRUE(r.ok) << r.error << ": " << Printable(conn->buffer());
    EXPECT_EQ(r.status, 502) << Printable(r.raw);
    EXPECT_EQ(r.body.find("hello"), std::string::npos) << "origin body leaked into the 502";
    EXPECT_EQ(r.raw.find("HTTP/1.1 200"), std::string::npos) << Printable(r.raw);
    // Wait for the origin connection to be done before the next round, so
    // accept order matches `which`.
    origin_->WaitPeerClosed(static_cast<int>(which), milliseconds(2000));
  }
}

// A bad chunk in the same origin read as the head, the origin keeping its
// connection open: the client gets the proxy's 502 on its kept-alive
// connection (logged as 502), the proxy closes that origin connection, and
// the next request goes to a fresh one.
TEST_F(OriginResponseTest, Case17_BadChunkWithTheHeadIs502AndTheOriginIsNotReused) {
  const std::vector<std::string> bad = {
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nhello\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
  };
  StartWithOrigin(
      [&](OriginConnection& conn) {
        size_t index = static_cast<size_t>(conn.index());
        while (!conn.stopping()) {
          HttpMessage req = conn.ReadRequest();
          if (!req.ok) return;
          if (index < bad.size()) {
            conn.Send(bad[index]);
            conn.WaitForClose(milliseconds(5000));
            return;
          }
          conn.Send(ResponseBytes(200, "ok:" + req.url));
        }
      },
      {{"access_log", "\"${DIR}/access.jsonl\""}});
  ASSERT_TRUE(Started());
  auto conn = Connect();
  ASSERT_TRUE(conn);
  for (size_t which = 0; which < bad.size(); ++which) {
    SCOPED_TRACE("origin response: \"" + Printable(bad[which]) + "\"");
    ASSERT_TRUE(conn->Send(Get("/bad")));
    HttpMessage r = ReadResponse(*conn);
    ASSERT_TRUE(r.ok) << r.error << ": " << Printable(conn->buffer());
    EXPECT_EQ(r.status, 502) << Printable(r.raw);
    EXPECT_EQ(r.Header("Transfer-Encoding"), std::nullopt) << Printable(r.raw);
    EXPECT_TRUE(origin_->WaitPeerClosed(static_cast<int>(which), milliseconds(5000)))
        << "the proxy kept the origin connection with the bad response";
  }
  ASSERT_TRUE(conn->Send(Get("/good")));
  HttpMessage good = ReadResponse(*conn);
  ASSERT_TRUE(good.ok) << good.error;
  EXPECT_EQ(good.body, "ok:/good");
  EXPECT_EQ(origin_->accepted(), static_cast<int>(bad.size()) + 1);

  // The access log (written by its own thread) says 502 with the error
  // page's bytes for each bad response.
  std::vector<std::string> lines;
  for (int i = 0; i < 100 && lines.size() < bad.size() + 1; ++i) {
    std::this_thread::sleep_for(milliseconds(50));
    lines.clear();
    std::istringstream log(ReadFile(dir_.File("access.jsonl")));
    for (std::string line; std::getline(log, line);) lines.push_back(line);
  }
  ASSERT_EQ(lines.size(), bad.size() + 1);
  for (size_t which = 0; which < bad.size(); ++which) {
    EXPECT_NE(lines[which].find("\"status\":502,"), std::string::npos) << lines[which];
    EXPECT_NE(lines[which].find("\"answered_by\":\"proxy\""), std::string::npos) << lines[which];
    EXPECT_EQ(lines[which].find("\"response_bytes\":0,"), std::string::npos) << lines[which];
  }
  EXPECT_NE(lines.back().find("\"status\":200,"), std::string::npos) << lines.back();
}

// Case 17 behind a waiting room with auto-protection: the origin's 200
// whose bad body came in the head's read became the proxy's 502, and the
// room counts it as what it is, an origin failure (as it counts a 502 from
// a dead origin), not as the healthy 200 its head said.
TEST_F(OriginResponseTest, Case17_BadBodyWithTheHeadCountsAsAnOriginFailureForTheRoom) {
  std::ofstream(dir_.File("k1")) << "origin-response-test-signing-key-0123456789\n";
  StartWithOrigin(
      [](OriginConnection& conn) {
        while (!conn.stopping()) {
          HttpMessage req = conn.ReadRequest();
          if (!req.ok) return;
          if (req.url == "/bad") {
            conn.Send(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nhello\r\n0\r\n\r\n");
            conn.WaitForClose(milliseconds(5000));
            return;
          }
          conn.Send(ResponseBytes(200, "ok:" + req.url));
        }
      },
      {}, {},
      "\n[secrets]\ntoken_keys = [{ id = \"k1\", secret_file = \"${DIR}/k1\" }]\n"
      "\n[rooms.shop]\nmatch = [\"^/\"]\ntotal_active_users = 1000\n"
      "new_users_per_minute = 6000\nmax_tickets_per_ip_per_minute = 0\n"
      "\n[rooms.shop.protect]\nenabled = true\n");
  ASSERT_TRUE(Started());
  auto get = [&](const std::string& path, RoomCookies* jar) {
    std::string extra = jar->Cookie().empty() ? "" : "Cookie: " + jar->Cookie() + "\r\n";
    HttpMessage m =
        RoundTrip(Get(path, extra + "Connection: close\r\n"), Within(milliseconds(5000)));
    jar->Absorb(m);
    return m;
  };
  // The origin error share the room measured (this instance, last 2 s), from
  // /metrics (no token from loopback); -1 when absent.
  auto error_ratio = [&] {
    auto conn = ConnectOrFail(tidegate_->admin_port());
    if (!conn) return -1.0;
    conn->Send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    HttpMessage m = ReadResponse(*conn, Within(milliseconds(5000)));
    const std::string key = "room_protect_origin_error_ratio{room=\"shop\"} ";
    size_t at = m.body.find(key);
    return at == std::string::npos ? -1.0 : std::stod(m.body.substr(at + key.size()));
  };
  RoomCookies shopper;
  HttpMessage first = get("/", &shopper);
  ASSERT_EQ(first.status, 200) << Printable(first.raw);
  ASSERT_FALSE(shopper.pass.empty()) << "the shopper was not admitted";
  // The samples live 2 s: a slow machine gets a few tries.
  double ratio = -1;
  for (int attempt = 0; attempt < 5 && ratio < 0.5; ++attempt) {
    for (int i = 0; i < 3; ++i) {
      HttpMessage bad = get("/bad", &shopper);
      ASSERT_TRUE(bad.ok) << bad.error;
      EXPECT_EQ(bad.status, 502) << Printable(bad.raw);
    }
    ratio = error_ratio();
  }
  // Three failures to at most one success in the window; counted as
  // healthy 200s the share would be 0.
  EXPECT_GE(ratio, 0.75) << "the replaced 200s were not counted as origin failures";
}

// The head (and a good chunk) went out first; the bad chunk comes 300 ms
// later: the client already reads a 200, so the only right move is to close
// its connection, with no second status line and no last-chunk appended.
TEST_F(OriginResponseTest, Case17_BadChunkAfterTheHeadWentOutCloses) {
  const std::vector<std::string> bad_tail = {
      "ZZ\r\nhello\r\n0\r\n\r\n",
      "-5\r\nhello\r\n0\r\n\r\n",
      "5\r\nhelloXX0\r\n\r\n",
  };
  const std::string head_and_chunk =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n";
  StartWithOrigin([&](OriginConnection& conn) {
    if (!conn.ReadRequest().ok) return;
    conn.Send(head_and_chunk);
    std::this_thread::sleep_for(milliseconds(300));
    conn.Send(bad_tail[static_cast<size_t>(conn.index()) % bad_tail.size()]);
    conn.WaitForClose(milliseconds(5000));
  });
  ASSERT_TRUE(Started());
  for (size_t which = 0; which < bad_tail.size(); ++which) {
    SCOPED_TRACE("bad tail: \"" + Printable(bad_tail[which]) + "\"");
    auto conn = Connect();
    ASSERT_TRUE(conn);
    ASSERT_TRUE(conn->Send(Get("/late")));
    ASSERT_TRUE(conn->ReadUntilContains("first\r\n", milliseconds(5000)))
        << "the head and first chunk did not go out: " << Printable(conn->buffer());
    ReadStatus s = conn->ReadUntilClose(milliseconds(5000));
    EXPECT_TRUE(s == ReadStatus::kClosed || s == ReadStatus::kReset) << ToString(s);
    const std::string& raw = conn->buffer();
    EXPECT_EQ(raw.rfind("HTTP/1.1 200 ", 0), 0u) << Printable(raw);
    EXPECT_EQ(raw.find("HTTP/1.1", 1), std::string::npos)
        << "a second status line: " << Printable(raw);
    EXPECT_EQ(raw.find("\r\n0\r\n\r\n"), std::string::npos)
        << "a last-chunk was appended: " << Printable(raw);
    EXPECT_EQ(raw.find("hello"), std::string::npos) << Printable(raw);
    EXPECT_TRUE(origin_->WaitPeerClosed(static_cast<int>(which), milliseconds(5000)));
  }
}

// RFC 9110 §8.6, RFC 9112 §6.1: an origin's 204 with framing fields reaches
// the client without them (and the connection stays in step: the next
// pipelined request gets its own answer); the answer to an HTTP/1.0 HEAD
// carries no Transfer-Encoding, while its Content-Length stays.
TEST_F(OriginResponseTest, BodilessResponsesDropFramingFieldsTheyMayNotCarry) {
  StartWithOrigin([](OriginConnection& conn) {
    while (!conn.stopping()) {
      HttpMessage req = conn.ReadRequest();
      if (!req.ok) return;
      if (req.url == "/no-content-chunked") {
        conn.Send("HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\nETag: \"v1\"\r\n\r\n");
      } else if (req.url == "/no-content-length") {
        conn.Send("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n");
      } else if (req.method == "HEAD" && req.url == "/chunked") {
        conn.Send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      } else if (req.method == "HEAD") {
        conn.Send("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n");
      } else {
        conn.Send(ResponseBytes(200, "ok:" + req.url));
      }
    }
  });
  ASSERT_TRUE(Started());
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(Get("/no-content-chunked") + Get("/no-content-length") + Get("/after")));
  for (int i = 0; i < 2; ++i) {
    HttpMessage r = ReadResponse(*conn);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.status, 204);
    EXPECT_FALSE(r.HasHeader("Transfer-Encoding")) << Printable(r.raw);
    EXPECT_FALSE(r.HasHeader("Content-Length")) << Printable(r.raw);
    if (i == 0) EXPECT_EQ(r.Header("ETag").value_or(""), "\"v1\"");
  }
  HttpMessage next = ReadResponse(*conn);
  ASSERT_TRUE(next.ok) << next.error;
  EXPECT_EQ(next.body, "ok:/after");

  ReadOptions head;
  head.head_request = true;
  for (const char* path : {"/chunked", "/length"}) {
    auto old_client = Connect();
    ASSERT_TRUE(old_client);
    ASSERT_TRUE(
        old_client->Send("HEAD " + std::string(path) + " HTTP/1.0\r\nHost: shop.test\r\n\r\n"));
    HttpMessage h = ReadResponse(*old_client, head);
    ASSERT_TRUE(h.ok) << h.error;
    EXPECT_EQ(h.status, 200);
    EXPECT_FALSE(h.HasHeader("Transfer-Encoding")) << Printable(h.raw);
    if (std::string(path) == "/length") {
      EXPECT_EQ(h.Header("Content-Length").value_or(""), "12") << Printable(h.raw);
    }
  }
}

}  // namespace
}  // namespace tidegate::itest
