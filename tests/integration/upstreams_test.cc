// Origin servers: the idle pool sized by recent use (connects stay near the
// concurrency instead of growing with requests), host names, and active
// health checks ejecting and re-admitting a server. Counts only, never time.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness/ports.h"
#include "tests/integration/harness/proxy_fixture.h"

namespace tidegate::itest {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class UpstreamsTest : public ProxyTest {
 protected:
  // The value of one sample of /metrics (admin port, open on loopback);
  // -1 when absent.
  double Metric(const std::string& sample) {
    auto conn = ConnectOrFail(tidegate_->admin_port());
    if (!conn) return -1;
    conn->Send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    HttpMessage r = ReadResponse(*conn);
    EXPECT_EQ(r.status, 200) << r.body;
    std::string needle = "\n" + sample + " ";
    size_t at = r.body.find(needle);
    if (at == std::string::npos) return -1;
    return std::stod(r.body.substr(at + needle.size()));
  }

  // Three clients ask for /hold at once: with ThreePooledThenExtraBytes as
  // the origin, three origin connections are open, then pooled.
  void PoolThreeConnections() {
    std::vector<std::unique_ptr<RawConnection>> clients;
    for (int i = 0; i < 3; ++i) {
      clients.push_back(Connect());
      ASSERT_TRUE(clients.back());
      ASSERT_TRUE(clients.back()->Send(Get("/hold")));
    }
    for (auto& client : clients) {
      HttpMessage r = ReadResponse(*client, Within(milliseconds(15000)));
      ASSERT_EQ(r.status, 200) << r.error;
    }
    ASSERT_EQ(origin_->accepted(), 3);
  }

  // Polls `sample` until it equals `value` (bounded: 15 s).
  bool WaitMetric(const std::string& sample, double value) {
    auto deadline = std::chrono::steady_clock::now() + seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Metric(sample) == value) return true;
      std::this_thread::sleep_for(milliseconds(100));
    }
    return false;
  }
};

// An origin that answers nothing until `concurrency` requests are open at
// once (bounded wait), so every round really holds that many origin
// connections busy together, then answers them all.
struct BarrierOrigin {
  explicit BarrierOrigin(int concurrency)
      : origin(std::make_unique<ScriptedOrigin>([this, concurrency](OriginConnection& conn) {
          while (!conn.stopping()) {
            HttpMessage req = conn.ReadRequest(milliseconds(30000));
            if (!req.ok) return;
            int index = arrived.fetch_add(1) + 1;
            int round_end = ((index - 1) / concurrency + 1) * concurrency;
            auto deadline = std::chrono::steady_clock::now() + seconds(10);
            while (arrived.load() < round_end && std::chrono::steady_clock::now() < deadline &&
                   !conn.stopping()) {
              std::this_thread::sleep_for(milliseconds(2));
            }
            if (!conn.Send(ResponseBytes(200, "ok"))) return;
          }
        })) {}
  std::atomic<int> arrived{0};
  std::unique_ptr<ScriptedOrigin> origin;
};

// Issue 14: with the old fixed pool (32 idle per worker and server), every
// round of 48 concurrent requests closed 16 origin connections and opened
// them again. Sized by recent use, the pool keeps all 48.
TEST_F(UpstreamsTest, IdlePoolKeepsWhatWasRecentlyInUse) {
  constexpr int kConcurrency = 48;
  constexpr int kRounds = 6;
  BarrierOrigin barrier(kConcurrency);
  StartProxy(barrier.origin->port());  // [upstream] keepalive keys left at their defaults
  ASSERT_TRUE(Started());

  std::vector<std::unique_ptr<RawConnection>> clients;
  for (int i = 0; i < kConcurrency; ++i) {
    clients.push_back(Connect());
    ASSERT_TRUE(clients.back());
  }
  for (int round = 0; round < kRounds; ++round) {
    for (auto& client : clients) ASSERT_TRUE(client->Send(Get("/p")));
    for (auto& client : clients) {
      HttpMessage r = ReadResponse(*client, Within(milliseconds(20000)));
      ASSERT_TRUE(r.ok) << "round " << round << ": " << r.error;
      ASSERT_EQ(r.status, 200);
    }
  }
  double connects = Metric("tidegate_upstream_pool_connects_total");
  double reused = Metric("tidegate_upstream_pool_reused_total");
  // 288 requests; the old pool opened 48 + 5 * 16 = 128 connections.
  EXPECT_LE(connects, kConcurrency + 4) << "reused " << reused;
  EXPECT_GE(reused, kConcurrency * kRounds - kConcurrency - 4);
}

TEST_F(UpstreamsTest, KeepaliveZeroStillDisablesPooling) {
  origin_ = std::make_unique<ScriptedOrigin>(ServeOkForever());
  StartProxy(origin_->port(), {}, {{"keepalive", "0"}});
  ASSERT_TRUE(Started());
  auto conn = Connect();
  ASSERT_TRUE(conn);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(conn->Send(Get("/p")));
    HttpMessage r = ReadResponse(*conn);
    ASSERT_EQ(r.status, 200) << r.error;
  }
  EXPECT_EQ(Metric("tidegate_upstream_pool_connects_total"), 3);
}

// Audit 17 F1: nothing bounded how long one pooled connection served. As
// nginx's keepalive_requests / keepalive_time: after 3 exchanges, or once
// it is older than keepalive_time, a connection is closed when released.
TEST_F(UpstreamsTest, APooledConnectionEndsAfterKeepaliveRequestsOrKeepaliveTime) {
  origin_ = std::make_unique<ScriptedOrigin>(ServeOkForever());
  StartProxy(origin_->port(), {}, {{"keepalive_requests", "3"}, {"keepalive_time", "\"1s\""}});
  ASSERT_TRUE(Started());
  auto conn = Connect();
  ASSERT_TRUE(conn);
  auto get = [&](const std::string& path) {
    ASSERT_TRUE(conn->Send(Get(path)));
    HttpMessage r = ReadResponse(*conn);
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.body, "ok:" + path);
  };
  for (int i = 0; i < 7; ++i) get("/n" + std::to_string(i));
  EXPECT_EQ(Metric("tidegate_upstream_pool_connects_total"), 3);  // 3 + 3 + 1
  // The third connection served one exchange; it is over a second old after
  // its next one, which is then its last.
  std::this_thread::sleep_for(milliseconds(1200));
  get("/old");
  get("/new");
  EXPECT_EQ(Metric("tidegate_upstream_pool_connects_total"), 4);
}

// An origin holding three connections in the pool (requests to /hold are
// answered once three are open at once); /late is answered, then an extra
// response follows 150 ms later on the idle connection; /extra is answered
// with an extra response in the same write.
ScriptedOrigin::Script ThreePooledThenExtraBytes(std::atomic<int>* held) {
  return [held](OriginConnection& conn) {
    const std::string smuggled = "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nSMUGGLED";
    while (!conn.stopping()) {
      HttpMessage req = conn.ReadRequest(milliseconds(30000));
      if (!req.ok) return;
      if (req.url == "/hold") {
        held->fetch_add(1);
        auto deadline = std::chrono::steady_clock::now() + seconds(10);
        while (held->load() < 3 && std::chrono::steady_clock::now() < deadline) {
          std::this_thread::sleep_for(milliseconds(2));
        }
      }
      if (req.url == "/extra") {
        conn.Send(ResponseBytes(200, "ok:/extra") + smuggled);
        conn.WaitForClose(milliseconds(30000));
        return;
      }
      if (!conn.Send(ResponseBytes(200, "ok:" + req.url))) return;
      if (req.url == "/bye") {  // an origin closing an idle connection with a 408
        std::this_thread::sleep_for(milliseconds(150));
        conn.Send("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      if (req.url == "/late") {
        std::this_thread::sleep_for(milliseconds(150));
        conn.Send(smuggled);
        conn.WaitForClose(milliseconds(30000));
        return;
      }
    }
  };
}

// Audit 17 F1: an origin's late extra response, read as the answer to the
// next request on that pooled connection, shifted it by one response for
// as long as traffic kept it busy (shoppers got each other's pages). HTTP/1.1
// cannot tell such bytes from an answer once the next request is written;
// what the proxy can do is stop trusting that origin's pooled connections
// the moment it sees extra bytes anywhere: on an idle connection, or after
// a response. Every pooled connection of the server is closed then.
TEST_F(UpstreamsTest, ExtraBytesFromTheOriginRetireAllItsPooledConnections) {
  for (const std::string path : {"/late", "/extra"}) {
    SCOPED_TRACE(path);
    std::atomic<int> held{0};
    origin_ = std::make_unique<ScriptedOrigin>(ThreePooledThenExtraBytes(&held));
    StartProxy(origin_->port());
    ASSERT_TRUE(Started());
    ASSERT_NO_FATAL_FAILURE(PoolThreeConnections());
    HttpMessage r = RoundTrip(Get(path));
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.body, "ok:" + path);
    EXPECT_TRUE(WaitMetric("tidegate_origin_errors_total{kind=\"extra_bytes\"}", 1));
    EXPECT_NE(tidegate_->Stderr().find("warn upstream.extra_bytes: 127.0.0.1:"), std::string::npos)
        << tidegate_->Stderr();
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE(origin_->WaitPeerClosed(i, milliseconds(5000)))
          << "pooled connection " << i << " of the origin that sent extra bytes stayed open";
    }
    r = RoundTrip(Get("/next"));
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.body, "ok:/next");
    EXPECT_EQ(origin_->accepted(), 4);
    ASSERT_TRUE(tidegate_->process().Running()) << tidegate_->Stderr();
    EXPECT_EQ(tidegate_->Stop(seconds(10)), 0) << tidegate_->Stderr();
    tidegate_.reset();
    origin_.reset();  // its script points at `held`
  }
}

// Some servers say goodbye to an idle keep-alive connection with a 408
// before closing it: only that connection is lost, the pool stays.
TEST_F(UpstreamsTest, AnIdleConnectionsGoodbye408RetiresNothingElse) {
  std::atomic<int> held{0};
  origin_ = std::make_unique<ScriptedOrigin>(ThreePooledThenExtraBytes(&held));
  StartProxy(origin_->port());
  ASSERT_TRUE(Started());
  ASSERT_NO_FATAL_FAILURE(PoolThreeConnections());
  HttpMessage r = RoundTrip(Get("/bye"));
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_TRUE(WaitMetric("tidegate_upstream_pool_idle_connections", 2));
  EXPECT_EQ(Metric("tidegate_origin_errors_total{kind=\"extra_bytes\"}"), 0);
  for (int i = 0; i < 2; ++i) {
    r = RoundTrip(Get("/again"));
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.body, "ok:/again");
  }
  EXPECT_EQ(origin_->accepted(), 3) << "the other pooled connections were closed";
  origin_.reset();  // its script points at `held`
}

TEST_F(UpstreamsTest, LocalhostAsOriginWorks) {
  shop_ = StartDemoShopOrFail(dir_);
  ASSERT_TRUE(shop_);
  StartProxy(shop_->port(), {},
             {{"servers", "[\"localhost:" + std::to_string(shop_->port()) + "\"]"},
              {"resolve_interval", "\"1s\""}});
  ASSERT_TRUE(Started());
  ExpectServes("/");
  // Re-resolution runs (every second) and keeps serving.
  std::this_thread::sleep_for(milliseconds(1500));
  ExpectServes("/");
  EXPECT_EQ(Metric("tidegate_upstream_resolve_failures_total{server=\"localhost:" +
                   std::to_string(shop_->port()) + "\"}"),
            0);
}

TEST_F(UpstreamsTest, NameThatDoesNotResolveAtStartIsAConfigErrorWithItsPlace) {
  TidegateOptions options;
  options.config = ProxyConfig(9, {}, {{"servers", "[\"no-such-host.invalid:80\"]"}});
  std::string error;
  auto process = TidegateProcess::Start(dir_, options, &error);
  ASSERT_FALSE(process) << "tidegate started with an unresolvable origin";
  EXPECT_NE(error.find("tidegate.toml:"), std::string::npos) << error;
  EXPECT_NE(error.find("upstream.servers[0]"), std::string::npos) << error;
  EXPECT_NE(error.find("no-such-host.invalid"), std::string::npos) << error;
}

// On SIGHUP a name that no longer resolves fails the reload (its place
// named in the error log); the running configuration, with its last good
// address, keeps serving. A reload that works keeps the pool serving too.
TEST_F(UpstreamsTest, ReloadWithAnUnresolvableNameKeepsTheLastGoodConfiguration) {
  shop_ = StartDemoShopOrFail(dir_);
  ASSERT_TRUE(shop_);
  std::string servers = "[\"localhost:" + std::to_string(shop_->port()) + "\"]";
  StartProxy(shop_->port(), {}, {{"servers", servers}});
  ASSERT_TRUE(Started());
  ExpectServes("/");

  ASSERT_TRUE(tidegate_->RewriteConfig(
      ProxyConfig(shop_->port(), {}, {{"servers", "[\"no-such-host.invalid:80\"]"}})));
  ASSERT_TRUE(tidegate_->Reload());
  ASSERT_TRUE(WaitMetric("tidegate_config_reloads_total{result=\"failed\"}", 1));
  ExpectServes("/");
  EXPECT_NE(tidegate_->Stderr().find("upstream.servers[0]"), std::string::npos)
      << tidegate_->Stderr();

  ASSERT_TRUE(tidegate_->RewriteConfig(ProxyConfig(shop_->port(), {}, {{"servers", servers}})));
  ASSERT_TRUE(tidegate_->Reload());
  ASSERT_TRUE(WaitMetric("tidegate_config_reloads_total{result=\"ok\"}", 1));
  ExpectServes("/");
}

// Origin "A" answers 500 on /healthz while `sick`; "B" is always well. Both
// tag their answers so the test sees who served.
ScriptedOrigin::Script TaggedOrigin(std::string tag, std::atomic<bool>* sick) {
  return [tag, sick](OriginConnection& conn) {
    while (!conn.stopping()) {
      HttpMessage req = conn.ReadRequest(milliseconds(30000));
      if (!req.ok) return;
      int status = req.url == "/healthz" && sick != nullptr && sick->load() ? 500 : 200;
      if (!conn.Send(ResponseBytes(status, tag))) return;
    }
  };
}

TEST_F(UpstreamsTest, ActiveHealthChecksEjectAndReadmit) {
  std::atomic<bool> sick{true};
  ScriptedOrigin a(TaggedOrigin("A", &sick));
  ScriptedOrigin b(TaggedOrigin("B", nullptr));
  std::string a_name = "127.0.0.1:" + std::to_string(a.port());
  std::string b_name = "127.0.0.1:" + std::to_string(b.port());
  StartProxy(a.port(), {}, {{"servers", "[\"" + a_name + "\", \"" + b_name + "\"]"}},
             "\n[upstream.health]\npath = \"/healthz\"\ninterval = \"200ms\"\n"
             "timeout = \"2s\"\nrise = 2\nfall = 2\n");
  ASSERT_TRUE(Started());

  ASSERT_TRUE(WaitMetric("tidegate_upstream_server_healthy{server=\"" + a_name + "\"}", 0));
  EXPECT_EQ(Metric("tidegate_upstream_server_healthy{server=\"" + b_name + "\"}"), 1);
  EXPECT_GE(
      Metric("tidegate_upstream_health_checks_total{server=\"" + a_name + "\",result=\"fail\"}"),
      2);
  for (int i = 0; i < 6; ++i) {
    HttpMessage r = RoundTrip(Get("/page"));
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.body, "B") << "request " << i << " went to the ejected server";
  }
  // The public health route says degraded, without naming the origin.
  HttpMessage health = RoundTrip(Get("/.tidegate/health"));
  EXPECT_NE(health.body.find("\"degraded\""), std::string::npos) << health.body;
  EXPECT_NE(health.body.find("\"upstream\""), std::string::npos) << health.body;
  EXPECT_EQ(health.body.find(a_name), std::string::npos) << health.body;
  EXPECT_EQ(health.body.find(".toml"), std::string::npos) << health.body;

  sick = false;  // recovers after `rise` passes
  ASSERT_TRUE(WaitMetric("tidegate_upstream_server_healthy{server=\"" + a_name + "\"}", 1));
  int from_a = 0;
  for (int i = 0; i < 6; ++i) {
    HttpMessage r = RoundTrip(Get("/page"));
    ASSERT_EQ(r.status, 200) << r.error;
    from_a += r.body == "A" ? 1 : 0;
  }
  EXPECT_GE(from_a, 2);
}

// A server that refuses connections got nothing: every request — GETs,
// POSTs with a Content-Length body and a chunked one — goes on to the next
// server and is answered there, each sent exactly once (audit 17). The
// version before answered 502 to every request the round robin gave to the
// refusing server until it was ejected (max_fails per worker), and again
// each time its ejection ended.
TEST_F(UpstreamsTest, ARefusedConnectGoesOnToTheNextServerForAnyMethod) {
  std::atomic<int> posts{0};
  ScriptedOrigin live([&posts](OriginConnection& conn) {
    while (!conn.stopping()) {
      HttpMessage req = conn.ReadRequest(milliseconds(30000));
      if (!req.ok) return;
      if (req.method == "POST") posts.fetch_add(1);
      if (!conn.Send(ResponseBytes(200, req.method + " " + req.body))) return;
    }
  });
  uint16_t dead = FreeLoopbackPort();  // nothing listens there: connect refused
  std::string dead_name = "127.0.0.1:" + std::to_string(dead);
  std::string live_name = "127.0.0.1:" + std::to_string(live.port());
  // The refusing server first, and never ejected: every other request is
  // given to it by the round robin.
  StartProxy(live.port(), {},
             {{"servers", "[\"" + dead_name + "\", \"" + live_name + "\"]"}, {"max_fails", "0"}});
  ASSERT_TRUE(Started());

  for (int i = 0; i < 6; ++i) {
    HttpMessage r = RoundTrip(Get("/page"));
    EXPECT_EQ(r.status, 200) << "GET " << i << ": " << r.error << r.body;
    EXPECT_EQ(r.body, "GET ") << "GET " << i;
  }
  for (int i = 0; i < 6; ++i) {
    std::string body = "order=" + std::to_string(i);
    HttpMessage r = RoundTrip("POST /checkout HTTP/1.1\r\nHost: shop.test\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body);
    EXPECT_EQ(r.status, 200) << "POST " << i << ": " << r.error << r.body;
    EXPECT_EQ(r.body, "POST " + body) << "POST " << i;
  }
  for (int i = 0; i < 2; ++i) {
    HttpMessage r = RoundTrip(
        "POST /checkout HTTP/1.1\r\nHost: shop.test\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    EXPECT_EQ(r.status, 200) << "chunked POST " << i << ": " << r.error << r.body;
    EXPECT_EQ(r.body, "POST hello world") << "chunked POST " << i;
  }
  // A body larger than what is buffered for a server before it answers.
  for (int i = 0; i < 2; ++i) {
    std::string body(1 << 20, static_cast<char>('a' + i));
    HttpMessage r = RoundTrip("POST /upload HTTP/1.1\r\nHost: shop.test\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body);
    EXPECT_EQ(r.status, 200) << "large POST " << i << ": " << r.error;
    EXPECT_TRUE(r.body == "POST " + body)
        << "large POST " << i << ": " << r.body.size() << " bytes";
  }
  EXPECT_EQ(posts.load(), 10) << "each POST reaches the live server exactly once";
  EXPECT_GE(Metric("tidegate_origin_retries_total"), 8);
}

}  // namespace
}  // namespace tidegate::itest
