// ctl/http_client: admin URLs, what goes on the wire, and each failure kind
// with its message, against one-shot loopback servers (port 0).
#include "ctl/http_client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "tests/unit/ctl/loopback_listener.h"

namespace tidegate::ctl {
namespace {

// A loopback listener on port 0. With a canned answer it serves one
// connection: reads the request head and its Content-Length body, records
// them, writes the answer and closes. Without one it never accepts (the
// kernel still completes the handshake: a server that does not answer).
class OneShotServer {
 public:
  explicit OneShotServer(std::string answer = "", bool serve = true) {
    fd_ = ListenOnLoopback(&port_);
    if (serve) thread_ = std::thread([this, answer] { Serve(answer); });
  }
  ~OneShotServer() {
    if (thread_.joinable()) thread_.join();
    close(fd_);
  }

  uint16_t port() const { return port_; }
  // The request as received; call after the client is done.
  const std::string& request() {
    if (thread_.joinable()) thread_.join();
    return request_;
  }

 private:
  void Serve(const std::string& answer) {
    int conn = accept(fd_, nullptr, nullptr);
    if (conn < 0) return;
    char buf[4096];
    size_t want = std::string::npos;
    while (want == std::string::npos || request_.size() < want) {
      ssize_t n = recv(conn, buf, sizeof buf, 0);
      if (n <= 0) break;
      request_.append(buf, static_cast<size_t>(n));
      size_t end = request_.find("\r\n\r\n");
      if (want == std::string::npos && end != std::string::npos) {
        size_t cl = request_.find("Content-Length: ");
        size_t body =
            cl == std::string::npos || cl > end ? 0 : std::stoul(request_.substr(cl + 16));
        want = end + 4 + body;
      }
    }
    send(conn, answer.data(), answer.size(), MSG_NOSIGNAL);
    close(conn);
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
  std::string request_;
};

HttpTarget Loopback(uint16_t port, const std::string& base_path = "") {
  HttpTarget target;
  target.host = "127.0.0.1";
  target.port = port;
  target.base_path = base_path;
  return target;
}

TEST(HttpClientTest, ParsesAdminUrls) {
  HttpTarget t;
  std::string error;
  ASSERT_TRUE(ParseAdminUrl("http://127.0.0.1:9901", &t, &error));
  EXPECT_EQ(t.host, "127.0.0.1");
  EXPECT_EQ(t.port, 9901);
  ASSERT_TRUE(ParseAdminUrl("http://[::1]:8/admin/", &t, &error));
  EXPECT_EQ(t.host, "::1");
  EXPECT_EQ(t.base_path, "/admin");
  ASSERT_TRUE(ParseAdminUrl("http://localhost", &t, &error));
  EXPECT_EQ(t.host, "localhost");
  EXPECT_EQ(t.port, 80);
  EXPECT_EQ(t.base_path, "");
  ASSERT_TRUE(ParseAdminUrl("unix:/run/tidegate.sock", &t, &error));
  EXPECT_EQ(t.unix_path, "/run/tidegate.sock");
  EXPECT_FALSE(t.tls);
  ASSERT_TRUE(ParseAdminUrl("https://127.0.0.1", &t, &error));
  EXPECT_TRUE(t.tls);
  EXPECT_EQ(t.port, 443);
  EXPECT_FALSE(ParseAdminUrl("ftp://127.0.0.1:9901", &t, &error));
  EXPECT_NE(error.find("only http://, https:// or unix:/path"), std::string::npos) << error;
  EXPECT_FALSE(ParseAdminUrl("127.0.0.1:9901", &t, &error));
  EXPECT_FALSE(ParseAdminUrl("unix:relative", &t, &error));
}

TEST(HttpClientTest, SendsTheRequestAndPassesAnyStatusBack) {
  OneShotServer server(
      "HTTP/1.1 100 Continue\r\nX-Early: 1\r\n\r\n"
      "HTTP/1.1 409 Conflict\r\nETag: \"7\"\r\nContent-Type: application/json\r\n"
      "Content-Length: 17\r\n\r\n{\"error\":\"stale\"}");
  HttpRequestSpec spec;
  spec.method = "PUT";
  spec.path_and_query = "/v1/banner?dry=1";
  spec.bearer_token = "secret-token";
  spec.json_body = R"({"message":"hi"})";
  HttpResponse response;
  HttpError kind;
  std::string error;
  ASSERT_TRUE(SendRequest(Loopback(server.port(), "/admin"), spec, &response, &kind, &error))
      << error;
  EXPECT_EQ(kind, HttpError::kNone);
  EXPECT_EQ(response.status, 409);
  EXPECT_EQ(response.headers["etag"], "\"7\"");
  EXPECT_EQ(response.headers.count("x-early"), 0u) << "headers of the 100 answer";
  EXPECT_EQ(response.body, "{\"error\":\"stale\"}");

  const std::string& request = server.request();
  EXPECT_EQ(request.rfind("PUT /admin/v1/banner?dry=1 HTTP/1.1\r\n", 0), 0u) << request;
  EXPECT_NE(request.find("\r\nHost: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"),
            std::string::npos)
      << request;
  EXPECT_NE(request.find("\r\nAuthorization: Bearer secret-token\r\n"), std::string::npos);
  EXPECT_NE(request.find("\r\nContent-Type: application/json\r\n"), std::string::npos);
  EXPECT_NE(request.find("\r\nContent-Length: 16\r\n"), std::string::npos);
  EXPECT_NE(request.find("\r\nUser-Agent: tidegate-ctl\r\n"), std::string::npos);
  EXPECT_EQ(request.find("Expect:"), std::string::npos);
  EXPECT_EQ(request.substr(request.size() - 16), R"({"message":"hi"})");
}

TEST(HttpClientTest, IgnoresProxyEnvironmentVariables) {
  OneShotServer server("HTTP/1.1 204 No Content\r\n\r\n");
  setenv("http_proxy", "http://127.0.0.1:1", 1);
  setenv("ALL_PROXY", "http://127.0.0.1:1", 1);
  HttpRequestSpec spec;
  spec.method = "DELETE";
  spec.path_and_query = "/v1/banner";
  HttpResponse response;
  HttpError kind;
  std::string error;
  bool ok = SendRequest(Loopback(server.port()), spec, &response, &kind, &error);
  unsetenv("http_proxy");
  unsetenv("ALL_PROXY");
  ASSERT_TRUE(ok) << error;
  EXPECT_EQ(response.status, 204);
  EXPECT_EQ(server.request().rfind("DELETE /v1/banner HTTP/1.1\r\n", 0), 0u) << server.request();
}

TEST(HttpClientTest, ConnectionRefusedNamesTheCause) {
  uint16_t port;
  {
    OneShotServer closed("", /*serve=*/false);
    port = closed.port();
  }
  HttpRequestSpec spec;
  spec.method = "GET";
  spec.path_and_query = "/v1/state";
  HttpResponse response;
  HttpError kind;
  std::string error;
  EXPECT_FALSE(SendRequest(Loopback(port), spec, &response, &kind, &error));
  EXPECT_EQ(kind, HttpError::kConnect);
  EXPECT_EQ(error, "Connection refused");

  HttpTarget unix_target;
  unix_target.unix_path = "/nonexistent/tidegate-admin.sock";
  EXPECT_FALSE(SendRequest(unix_target, spec, &response, &kind, &error));
  EXPECT_EQ(kind, HttpError::kConnect);
  EXPECT_EQ(error, "No such file or directory");
}

TEST(HttpClientTest, ASilentServerTimesOut) {
  OneShotServer silent("", /*serve=*/false);
  HttpRequestSpec spec;
  spec.method = "GET";
  spec.path_and_query = "/v1/state";
  spec.timeout = std::chrono::milliseconds(200);  // the idle bound rounds up to 1 s
  HttpResponse response;
  HttpError kind;
  std::string error;
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(SendRequest(Loopback(silent.port()), spec, &response, &kind, &error));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(kind, HttpError::kNoAnswer);  // the request went out: its outcome is unknown
  EXPECT_EQ(error, "timed out waiting for the response");
}

// A connection that ends before the answer is complete is kNoAnswer: the
// server may have acted on the request.
TEST(HttpClientTest, TruncatedOrMissingAnswersAreNoAnswer) {
  HttpRequestSpec spec;
  spec.method = "GET";
  spec.path_and_query = "/v1/state";
  HttpResponse response;
  HttpError kind;
  std::string error;
  {
    OneShotServer truncated("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
    EXPECT_FALSE(SendRequest(Loopback(truncated.port()), spec, &response, &kind, &error));
    EXPECT_EQ(kind, HttpError::kNoAnswer);
    EXPECT_NE(error.find("connection closed before the response was complete"), std::string::npos)
        << error;
  }
  {
    OneShotServer nothing("");
    EXPECT_FALSE(SendRequest(Loopback(nothing.port()), spec, &response, &kind, &error));
    EXPECT_EQ(kind, HttpError::kNoAnswer) << error;
  }
}

}  // namespace
}  // namespace tidegate::ctl
