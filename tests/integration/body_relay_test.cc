// Response bodies relayed from a real origin socket to a real client
// socket (docs/architecture.md "I/O path"): a body read from the origin is
// written to the client from the read's memory, behind the queued head or
// chunk framing, in one writev; what the socket does not take is kept in
// order and written on EPOLLOUT. These tests check the bytes a client gets
// when that write is partial (a slow reader with a small receive buffer),
// in every client framing, and a client that goes away mid-body.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/harness/proxy_fixture.h"
#include "tests/integration/harness/test_certs.h"
#include "tests/integration/harness/tls_client.h"

namespace tidegate::itest {
namespace {

using Clock = std::chrono::steady_clock;

// Bytes that differ from one position to the next (a 251-byte period, not a
// power of two): a byte lost, doubled or moved changes the comparison.
std::string Pattern(size_t n, unsigned seed = 0) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('!' + (i * 7 + seed + i / 251) % 90);
  return s;
}

void Pause(int ms) { poll(nullptr, 0, ms); }

// A client whose receive buffer is small, so the proxy's writes to it are
// partial and the rest waits in its output buffer.
std::unique_ptr<RawConnection> ConnectSlowReader(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return nullptr;
  int small = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  // A small segment size: the proxy's kernel sizes the connection's send
  // buffer from it (on loopback's 64 KB segments it starts at megabytes).
  int mss = 1000;
  setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return nullptr;
  }
  return std::make_unique<RawConnection>(fd);
}

// Reads at most a few KB at a time with short pauses until `total` bytes
// have arrived, the peer closes or `limit` passes; the bytes stay in
// conn.buffer() for ReadResponse().
void ReadSlowly(Connection& conn, uint64_t total, std::chrono::seconds limit) {
  auto deadline = Clock::now() + limit;
  while (conn.bytes_received() < total && !conn.peer_closed() && Clock::now() < deadline) {
    conn.ReadMore(milliseconds(200));
    Pause(1);
  }
}

// An origin that answers GET /cl/<n> with an n-byte Content-Length body,
// written in irregular pieces (the head with the first bytes, then odd
// sizes: the proxy sees the head and body in one read and in separate
// ones), and keeps the connection for the next request.
ScriptedOrigin::Script LengthOrigin() {
  return [](OriginConnection& conn) {
    for (;;) {
      HttpMessage req = conn.ReadRequest(milliseconds(20000));
      if (!req.ok) return;
      size_t n = std::stoul(req.url.substr(req.url.rfind('/') + 1));
      // A moment to think: the proxy's pending write to a slow reader ends
      // before the answer comes, so the answer meets a socket with little
      // room and no write pending (a partial gathered write).
      Pause(4);
      std::string body = Pattern(n, static_cast<unsigned>(n));
      std::string bytes =
          "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
          "Content-Length: " +
          std::to_string(n) + "\r\n\r\n";
      size_t first = std::min<size_t>(n, 24 * 1024);
      if (!conn.Send(bytes + body.substr(0, first))) return;
      size_t sizes[] = {1, 4093, 70001, 333, 16384};
      for (size_t off = first, i = 0; off < n; ++i) {
        size_t len = std::min(sizes[i % 5], n - off);
        if (!conn.Send(body.substr(off, len))) return;
        off += len;
      }
    }
  };
}

// More than the proxy's socket takes before its client reads (on loopback
// the kernel sizes a connection's send buffer up to tcp_wmem's maximum,
// 4 MB): the responses behind it are written to a nearly full socket.
constexpr size_t kFiller = 512 * 1024;

class BodyRelayTest : public ProxyTest {
 protected:
  // Sends GET /cl/<n> for every size at once on a slow reader that first
  // reads nothing: the proxy fills the socket with the first response, then
  // each later head and body meets a socket that takes only part of them
  // (the writev ends inside the head, inside the body, or takes nothing).
  // Every body must be byte-exact, in order, with nothing after the last.
  void ExpectPipelinedBodiesExact(const std::vector<size_t>& sizes) {
    auto conn = ConnectSlowReader(port());
    ASSERT_TRUE(conn);
    std::string requests;
    uint64_t total = 0;
    for (size_t n : sizes) {
      requests += Get("/cl/" + std::to_string(n));
      total += n;
    }
    ASSERT_TRUE(conn->Send(requests));
    Pause(300);
    ReadSlowly(*conn, total, std::chrono::seconds(90));
    for (size_t i = 0; i < sizes.size(); ++i) {
      size_t n = sizes[i];
      HttpMessage r = ReadResponse(*conn, Within(milliseconds(10000)));
      ASSERT_TRUE(r.ok) << "response " << i << " (" << n << " bytes): " << r.error;
      EXPECT_EQ(r.status, 200);
      EXPECT_EQ(r.Header("Content-Length"), std::to_string(n));
      ASSERT_EQ(r.body.size(), n) << "response " << i;
      ASSERT_TRUE(r.body == Pattern(n, static_cast<unsigned>(n)))
          << "response " << i << " (" << n << " bytes) differs from the origin's";
    }
    EXPECT_TRUE(conn->buffer().empty())
        << "bytes after the last body: " << Printable(conn->buffer());
    // The connection is still in step: one more exchange.
    ASSERT_TRUE(conn->Send(Get("/cl/7")));
    HttpMessage last = ReadResponse(*conn, Within(milliseconds(10000)));
    ASSERT_TRUE(last.ok) << last.error;
    EXPECT_EQ(last.body, Pattern(7, 7));
  }
};

TEST_F(BodyRelayTest, A24KBodyIsByteExactThroughASlowReader) {
  StartWithOrigin(LengthOrigin());
  ASSERT_TRUE(Started());
  std::vector<size_t> sizes = {kFiller};
  for (size_t i = 0; i < 60; ++i) sizes.push_back(i % 4 == 3 ? 1000 + i : 24 * 1024 + i);
  ExpectPipelinedBodiesExact(sizes);
}

TEST_F(BodyRelayTest, A1MBodyIsByteExactThroughASlowReader) {
  StartWithOrigin(LengthOrigin());
  ASSERT_TRUE(Started());
  ExpectPipelinedBodiesExact({kFiller, 1024 * 1024 + 13, 1024 * 1024 + 14, 5});
}

// A TLS client: bodies are copied into the TLS bufferevent's output (no
// gathered write on a TLS socket), byte-exact.
TEST_F(BodyRelayTest, ATlsClientGetsBodiesByteExact) {
  CertFiles cert;
  std::string error;
  ASSERT_TRUE(MakeCertificate(dir_, "shop", "shop.example", {"shop.example"}, &cert, &error))
      << error;
  StartWithOrigin(LengthOrigin(), {}, {},
                  "\n[server.tls]\nlisten = [\"127.0.0.1:${TLS_PORT}\"]\n"
                  "certificates = [{ cert = \"${DIR}/shop.pem\", key = \"${DIR}/shop.key\" }]\n");
  ASSERT_TRUE(Started());
  TlsClientOptions options;
  options.sni = "shop.example";
  auto conn = TlsConnection::Connect(tidegate_->tls_port(), options, &error);
  ASSERT_TRUE(conn) << error;
  for (size_t n : {size_t{24 * 1024}, size_t{1000}, size_t{1024 * 1024 + 13}}) {
    ASSERT_TRUE(conn->Send(Get("/cl/" + std::to_string(n))));
    HttpMessage r = ReadResponse(*conn, Within(milliseconds(20000)));
    ASSERT_TRUE(r.ok) << n << " bytes: " << r.error;
    ASSERT_EQ(r.body.size(), n);
    EXPECT_TRUE(r.body == Pattern(n, static_cast<unsigned>(n))) << n << " bytes differ";
  }
}

// A chunked origin whose writes cut through chunk lines and data: the
// client gets chunks of its own framing (HTTP/1.1) or the bare bytes until
// close (HTTP/1.0), byte-exact, through a slow reader.
TEST_F(BodyRelayTest, AChunkedOriginIsRelayedByteExactInBothClientFramings) {
  const std::string body = Pattern(700000, 3);
  StartWithOrigin([&](OriginConnection& conn) {
    for (;;) {
      HttpMessage req = conn.ReadRequest(milliseconds(20000));
      if (!req.ok) return;
      std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
      size_t sizes[] = {1, 65536, 4000, 123457, 17};
      for (size_t off = 0, i = 0; off < body.size(); ++i) {
        size_t len = std::min(sizes[i % 5], body.size() - off);
        char line[32];
        snprintf(line, sizeof line, "%zx\r\n", len);
        wire += line + body.substr(off, len) + "\r\n";
        off += len;
      }
      wire += "0\r\n\r\n";
      for (size_t off = 0; off < wire.size(); off += 9001) {
        if (!conn.Send(wire.substr(off, 9001))) return;
        if (off % 5 == 0) Pause(1);
      }
    }
  });
  ASSERT_TRUE(Started());
  for (int minor : {1, 0}) {
    auto conn = ConnectSlowReader(port());
    ASSERT_TRUE(conn);
    ASSERT_TRUE(
        conn->Send("GET /chunked HTTP/1." + std::to_string(minor) + "\r\nHost: shop.test\r\n\r\n"));
    ReadSlowly(*conn, body.size(), std::chrono::seconds(60));
    HttpMessage r = ReadResponse(*conn, Within(milliseconds(10000)));
    ASSERT_TRUE(r.ok) << "HTTP/1." << minor << ": " << r.error;
    EXPECT_EQ(r.chunked, minor == 1);
    EXPECT_EQ(r.ended_by_close, minor == 0);
    ASSERT_EQ(r.body.size(), body.size()) << "HTTP/1." << minor;
    EXPECT_TRUE(r.body == body) << "HTTP/1." << minor << ": the body differs";
  }
}

// An origin body delimited by its close, relayed chunked to an HTTP/1.1
// client.
TEST_F(BodyRelayTest, ACloseDelimitedOriginBodyIsRelayedByteExact) {
  const std::string body = Pattern(200000, 5);
  StartWithOrigin([&](OriginConnection& conn) {
    HttpMessage req = conn.ReadRequest();
    if (!req.ok) return;
    if (!conn.Send("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body.substr(0, 1000))) return;
    for (size_t off = 1000; off < body.size(); off += 30000) {
      if (!conn.Send(body.substr(off, 30000))) return;
    }
    conn.Close();
  });
  ASSERT_TRUE(Started());
  auto conn = ConnectSlowReader(port());
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(Get("/until-close")));
  ReadSlowly(*conn, body.size(), std::chrono::seconds(60));
  HttpMessage r = ReadResponse(*conn, Within(milliseconds(10000)));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.chunked);
  ASSERT_EQ(r.body.size(), body.size());
  EXPECT_TRUE(r.body == body);
}

// A client that closes (or resets) in the middle of a large body: the proxy
// drops the origin connection (never pooled mid-body) and goes on serving.
TEST_F(BodyRelayTest, AClientClosingMidBodyReleasesTheOrigin) {
  const size_t kBody = 64u << 20;  // far more than any buffer on the way
  StartWithOrigin([&](OriginConnection& conn) {
    HttpMessage req = conn.ReadRequest();
    if (!req.ok) return;
    if (req.url != "/big") {
      conn.Send(ResponseBytes(200, "ok:" + req.url));
      conn.WaitForClose(milliseconds(20000));
      return;
    }
    if (!conn.Send("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(kBody) + "\r\n\r\n")) {
      return;
    }
    const std::string piece = Pattern(65536, 9);
    for (size_t off = 0; off < kBody && !conn.stopping(); off += piece.size()) {
      if (!conn.Send(piece)) return;  // the proxy closed: what this test waits for
    }
  });
  ASSERT_TRUE(Started());
  int origin_index = 0;
  for (bool reset : {false, true}) {
    auto conn = Connect();
    ASSERT_TRUE(conn);
    ASSERT_TRUE(conn->Send(Get("/big")));
    ASSERT_TRUE(conn->ReadAtLeast(300000, milliseconds(10000))) << "reset=" << reset;
    EXPECT_EQ(conn->buffer().rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
    if (reset) {
      conn->Reset();
    } else {
      conn->Close();
    }
    EXPECT_TRUE(origin_->WaitPeerClosed(origin_index, milliseconds(15000)))
        << "reset=" << reset << ": the origin connection was kept after the client left";
    ++origin_index;
  }
  ExpectServes("/after");
}

}  // namespace
}  // namespace tidegate::itest
