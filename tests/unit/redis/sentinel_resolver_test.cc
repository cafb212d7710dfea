// redis/sentinel_resolver.h and RedisConnection's Sentinel mode against a
// fake: a loopback TCP server on its own thread that answers RESP commands
// from a table (SENTINEL get-master-addr-by-name, ROLE, PING). The real
// Sentinel failover is tested end to end in
// tests/integration/redis_sentinel_test.cc.
#include "redis/sentinel_resolver.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/value_parsers.h"

namespace tidegate::redis {
namespace {

using namespace std::chrono_literals;

std::string Bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}

using Replies = std::map<std::string, std::string>;

// Answers each command by its first word (upper case) from `replies`;
// "-ERR unknown" otherwise. Counts the commands it saw.
class FakeRedis {
 public:
  explicit FakeRedis(std::map<std::string, std::string> replies) : replies_(std::move(replies)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(listen_fd_, 16);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~FakeRedis() {
    stop_ = true;
    thread_.join();
    close(listen_fd_);
  }
  uint16_t port() const { return port_; }
  config::Address address() const {
    std::string error;
    return *config::ParseAddress("127.0.0.1:" + std::to_string(port_), {}, &error);
  }
  int commands(const std::string& name) {
    std::lock_guard<std::mutex> lock(mutex_);
    return seen_[name];
  }

 private:
  void Run() {
    std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
    std::map<int, std::string> buffers;
    while (!stop_) {
      if (poll(fds.data(), fds.size(), 20) <= 0) continue;
      for (size_t i = 0; i < fds.size(); ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        if (fds[i].fd == listen_fd_) {
          int c = accept(listen_fd_, nullptr, nullptr);
          if (c >= 0) fds.push_back({c, POLLIN, 0});
          continue;
        }
        char buf[4096];
        ssize_t n = read(fds[i].fd, buf, sizeof buf);
        if (n <= 0) {
          close(fds[i].fd);
          buffers.erase(fds[i].fd);
          fds.erase(fds.begin() + static_cast<long>(i));
          break;
        }
        std::string& in = buffers[fds[i].fd];
        in.append(buf, static_cast<size_t>(n));
        std::vector<std::string> args;
        while (Parse(&in, &args)) {
          std::string name = args.empty() ? "" : args[0];
          for (char& ch : name) ch = static_cast<char>(toupper(ch));
          std::string reply;
          {
            std::lock_guard<std::mutex> lock(mutex_);
            ++seen_[name];
            auto it = replies_.find(name);
            reply = it != replies_.end() ? it->second : "-ERR unknown command\r\n";
          }
          if (write(fds[i].fd, reply.data(), reply.size()) < 0) break;
        }
      }
    }
    for (const pollfd& p : fds) {
      if (p.fd != listen_fd_) close(p.fd);
    }
  }
  // One RESP array of bulk strings off the front of `in`.
  static bool Parse(std::string* in, std::vector<std::string>* args) {
    args->clear();
    if (in->empty() || (*in)[0] != '*') return false;
    size_t at = in->find("\r\n");
    if (at == std::string::npos) return false;
    int count = std::stoi(in->substr(1, at - 1));
    size_t pos = at + 2;
    for (int k = 0; k < count; ++k) {
      size_t end = in->find("\r\n", pos);
      if (end == std::string::npos || (*in)[pos] != '$') return false;
      size_t len = std::stoul(in->substr(pos + 1, end - pos - 1));
      if (in->size() < end + 2 + len + 2) return false;
      args->push_back(in->substr(end + 2, len));
      pos = end + 2 + len + 2;
    }
    in->erase(0, pos);
    return true;
  }

  std::map<std::string, std::string> replies_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::map<std::string, int> seen_;
};

std::string MasterAt(uint16_t port) {
  return "*2\r\n" + Bulk("127.0.0.1") + Bulk(std::to_string(port));
}

config::Address Dead() {
  // A port nobody listens on: bound, then closed.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  std::string error;
  return *config::ParseAddress("127.0.0.1:" + std::to_string(ntohs(addr.sin_port)), {}, &error);
}

class SentinelResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);
    base_ = event_base_new();
  }
  void TearDown() override { event_base_free(base_); }

  // Runs the loop until `done` or 5 s.
  void RunUntil(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      event_base_loop(base_, EVLOOP_ONCE | EVLOOP_NONBLOCK);
      std::this_thread::sleep_for(1ms);
    }
  }

  struct Outcome {
    bool called = false;
    bool ok = false;
    config::Address primary;
    std::string error;
  };
  Outcome Resolve(SentinelResolver& resolver) {
    Outcome out;
    resolver.Resolve([&](bool ok, const config::Address& primary, const std::string& error) {
      out = {true, ok, primary, error};
    });
    EXPECT_FALSE(out.called) << "never synchronously";
    RunUntil([&] { return out.called; });
    return out;
  }

  event_base* base_ = nullptr;
};

TEST_F(SentinelResolverTest, AsksEachSentinelInTurnUntilOneAnswers) {
  FakeRedis sentinel(Replies{{"SENTINEL", MasterAt(6380)}});
  SentinelResolver resolver(base_, {{Dead(), sentinel.address()}, "tg", 500ms});
  Outcome out = Resolve(resolver);
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.primary.host, "127.0.0.1");
  EXPECT_EQ(out.primary.port, 6380);
  // The one that answered is asked first next time: the dead one is skipped.
  Outcome again = Resolve(resolver);
  ASSERT_TRUE(again.ok) << again.error;
  EXPECT_EQ(sentinel.commands("SENTINEL"), 2);
}

TEST_F(SentinelResolverTest, EverySentinelFailingIsOneErrorNamingEach) {
  config::Address dead = Dead();
  FakeRedis unknown(Replies{{"SENTINEL", "*-1\r\n"}});
  FakeRedis named(Replies{{"SENTINEL", "*2\r\n" + Bulk("redis.local") + Bulk("6379")}});
  SentinelResolver resolver(base_, {{dead, unknown.address(), named.address()}, "tg", 500ms});
  Outcome out = Resolve(resolver);
  ASSERT_TRUE(out.called);
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.error.find("sentinel " + dead.text), std::string::npos) << out.error;
  EXPECT_NE(out.error.find("does not know master \"tg\""), std::string::npos) << out.error;
  EXPECT_NE(out.error.find("resolve-hostnames"), std::string::npos) << out.error;
}

TEST_F(SentinelResolverTest, BlockingResolutionForTheStartUpRead) {
  FakeRedis sentinel(Replies{{"SENTINEL", MasterAt(7000)}});
  config::Address primary;
  std::string error;
  ASSERT_TRUE(ResolvePrimaryBlocking({{Dead(), sentinel.address()}, "tg", 500ms}, &primary, &error))
      << error;
  EXPECT_EQ(primary.port, 7000);
  EXPECT_FALSE(ResolvePrimaryBlocking({{Dead()}, "tg", 500ms}, &primary, &error));
  EXPECT_NE(error.find("sentinel 127.0.0.1:"), std::string::npos) << error;
}

TEST_F(SentinelResolverTest, ConnectionReachesThePrimaryAndChecksItsRole) {
  FakeRedis primary(
      Replies{{"ROLE", "*3\r\n" + Bulk("master") + ":0\r\n*0\r\n"}, {"PING", "+PONG\r\n"}});
  FakeRedis sentinel(Replies{{"SENTINEL", MasterAt(primary.port())}});
  RedisConnection::Options o;
  o.sentinels = {sentinel.address()};
  o.master_name = "tg";
  o.timeout = 500ms;
  bool up = false;
  RedisConnection c(base_, o, [&](bool is_up, const std::string&) { up = is_up; });
  c.Start();
  RunUntil([&] { return up; });
  ASSERT_TRUE(up);
  EXPECT_EQ(c.current_address().port, primary.port());
  std::optional<RedisResult> pong;
  c.Command({"PING"}, [&](RedisResult r) { pong = r; });
  RunUntil([&] { return pong.has_value(); });
  ASSERT_TRUE(pong && pong->ok) << (pong ? pong->error : "no reply");
}

TEST_F(SentinelResolverTest, AReplicaNamedByTheSentinelIsRefusedThenAskedAgain) {
  FakeRedis replica(Replies{{"ROLE", "*5\r\n" + Bulk("slave") + Bulk("127.0.0.1") + ":1\r\n" +
                                         Bulk("connected") + ":0\r\n"}});
  FakeRedis sentinel(Replies{{"SENTINEL", MasterAt(replica.port())}});
  RedisConnection::Options o;
  o.sentinels = {sentinel.address()};
  o.master_name = "tg";
  o.timeout = 500ms;
  o.backoff_initial = 20ms;
  o.backoff_max = 50ms;
  bool ever_up = false;
  std::string last_error;
  RedisConnection c(base_, o, [&](bool up, const std::string& error) {
    ever_up = ever_up || up;
    if (!up) last_error = error;
  });
  c.Start();
  RunUntil([&] { return sentinel.commands("SENTINEL") >= 3; });
  EXPECT_FALSE(ever_up);
  EXPECT_GE(replica.commands("ROLE"), 2);
  EXPECT_NE(last_error.find("is not the primary (ROLE: slave)"), std::string::npos) << last_error;
}

TEST_F(SentinelResolverTest, ReadOnlyReplyDropsTheConnectionToAskAgain) {
  FakeRedis primary(Replies{{"ROLE", "*3\r\n" + Bulk("master") + ":0\r\n*0\r\n"},
                            {"SET", "-READONLY You can't write against a read only replica.\r\n"}});
  FakeRedis sentinel(Replies{{"SENTINEL", MasterAt(primary.port())}});
  RedisConnection::Options o;
  o.sentinels = {sentinel.address()};
  o.master_name = "tg";
  o.timeout = 500ms;
  o.backoff_initial = 20ms;
  int ups = 0;
  RedisConnection c(base_, o, [&](bool up, const std::string&) { ups += up ? 1 : 0; });
  c.Start();
  RunUntil([&] { return ups == 1; });
  ASSERT_EQ(ups, 1);
  std::optional<RedisResult> set;
  c.Command({"SET", "k", "v"}, [&](RedisResult r) { set = r; });
  RunUntil([&] { return set.has_value() && ups == 2; });
  ASSERT_TRUE(set.has_value());
  EXPECT_FALSE(set->ok);
  EXPECT_NE(set->error.find("READONLY"), std::string::npos) << set->error;
  EXPECT_EQ(ups, 2) << "reconnected through the sentinels";
  EXPECT_EQ(sentinel.commands("SENTINEL"), 2);
}

TEST_F(SentinelResolverTest, WatcherReportsSwitchMasterForItsMasterOnly) {
  // SUBSCRIBE's confirmation, then two announcements in the same reply.
  std::string confirm = "*3\r\n" + Bulk("subscribe") + Bulk("+switch-master") + ":1\r\n";
  std::string other =
      "*3\r\n" + Bulk("message") + Bulk("+switch-master") + Bulk("other 127.0.0.1 1 127.0.0.1 2");
  std::string ours = "*3\r\n" + Bulk("message") + Bulk("+switch-master") +
                     Bulk("tg 127.0.0.1 6379 127.0.0.1 6390");
  FakeRedis sentinel(Replies{{"SUBSCRIBE", confirm + other + ours}});
  std::vector<config::Address> switches;
  SentinelWatcher watcher(base_, {{Dead(), sentinel.address()}, "tg", 500ms},
                          [&](const config::Address& a) { switches.push_back(a); });
  watcher.Start();
  RunUntil([&] { return !switches.empty(); });
  ASSERT_EQ(switches.size(), 1u);
  EXPECT_EQ(switches[0].port, 6390);
  EXPECT_TRUE(watcher.subscribed());
}

TEST_F(SentinelResolverTest, PasswordIsSentWithAuthFirst) {
  const RedisCredentials pw{.password = "pw"};
  FakeRedis sentinel(Replies{{"AUTH", "+OK\r\n"}, {"SENTINEL", MasterAt(6381)}});
  FakeRedis refusing(Replies{{"AUTH", "-WRONGPASS invalid username-password pair\r\n"}});
  SentinelResolver resolver(base_, {{refusing.address(), sentinel.address()}, "tg", 500ms, pw});
  Outcome out = Resolve(resolver);
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.primary.port, 6381);
  EXPECT_EQ(sentinel.commands("AUTH"), 1);
  EXPECT_EQ(refusing.commands("SENTINEL"), 0) << "nothing asked after a refused AUTH";
  config::Address primary;
  std::string error;
  EXPECT_FALSE(ResolvePrimaryBlocking({{refusing.address()}, "tg", 500ms, pw}, &primary, &error));
  EXPECT_NE(error.find("AUTH: WRONGPASS"), std::string::npos) << error;
  ASSERT_TRUE(ResolvePrimaryBlocking({{sentinel.address()}, "tg", 500ms, pw}, &primary, &error))
      << error;
  EXPECT_EQ(sentinel.commands("AUTH"), 2);
}

TEST(SentinelReplyTest, ParsesTheAddressOrSaysWhy) {
  RedisReply ok;
  ok.type = RedisReply::Type::kArray;
  ok.elements.resize(2);
  ok.elements[0].type = ok.elements[1].type = RedisReply::Type::kString;
  ok.elements[0].str = "::1";
  ok.elements[1].str = "6379";
  config::Address a;
  std::string error;
  ASSERT_TRUE(PrimaryFromSentinelReply(ok, "tg", &a, &error)) << error;
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 6379);
  RedisReply nil;
  EXPECT_FALSE(PrimaryFromSentinelReply(nil, "tg", &a, &error));
  EXPECT_NE(error.find("does not know master \"tg\""), std::string::npos);
  ok.elements[1].str = "port";
  EXPECT_FALSE(PrimaryFromSentinelReply(ok, "tg", &a, &error));
}

}  // namespace
}  // namespace tidegate::redis
