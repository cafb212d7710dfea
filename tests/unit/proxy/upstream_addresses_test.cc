#include "proxy/upstream_addresses.h"

#include <arpa/inet.h>
#include <string.h>

#include <gtest/gtest.h>

#include <map>

namespace tidegate::proxy {
namespace {

UpstreamServer V4(const std::string& text, const char* ip, uint16_t port) {
  UpstreamServer server;
  server.text = text;
  auto* sin = reinterpret_cast<sockaddr_in*>(&server.addr);
  sin->sin_family = AF_INET;
  sin->sin_port = htons(port);
  inet_pton(AF_INET, ip, &sin->sin_addr);
  server.addr_len = sizeof(sockaddr_in);
  return server;
}

std::string Ip(const UpstreamServer& server) {
  char out[INET_ADDRSTRLEN] = "";
  inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&server.addr)->sin_addr, out,
            sizeof(out));
  return out;
}

config::Address Target(const std::string& host, uint16_t port) {
  config::Address address;
  address.host = host;
  address.port = port;
  address.text = host + ":" + std::to_string(port);
  return address;
}

// A resolver whose answers the test sets; an absent name fails like DNS.
struct FakeDns {
  std::map<std::string, std::string> answers;
  int calls = 0;
  ResolveFunction fn() {
    return [this](const std::string& host, uint16_t port, sockaddr_storage* out, socklen_t* len,
                  std::string* error) {
      ++calls;
      auto it = answers.find(host);
      if (it == answers.end()) {
        *error = "Temporary failure in name resolution";
        return false;
      }
      UpstreamServer s = V4(host, it->second.c_str(), port);
      *out = s.addr;
      *len = s.addr_len;
      return true;
    };
  }
};

TEST(AddressBookTest, KeepsTheLastGoodAnswerWhenDnsFails) {
  AddressBook book({Target("shop.internal", 80)}, {V4("shop.internal:80", "10.0.0.1", 80)});
  FakeDns dns;
  dns.answers["shop.internal"] = "10.0.0.2";
  EXPECT_TRUE(book.Refresh(dns.fn()));
  EXPECT_EQ(Ip(book.servers()[0]), "10.0.0.2");
  EXPECT_EQ(book.names()[0].last_error, "");

  dns.answers.clear();  // DNS down
  EXPECT_FALSE(book.Refresh(dns.fn()));
  EXPECT_EQ(Ip(book.servers()[0]), "10.0.0.2");  // kept
  EXPECT_EQ(book.names()[0].resolve_failures, 1u);
  EXPECT_EQ(book.names()[0].last_error, "Temporary failure in name resolution");

  dns.answers["shop.internal"] = "10.0.0.2";  // back, same answer
  EXPECT_FALSE(book.Refresh(dns.fn()));
  EXPECT_EQ(book.names()[0].last_error, "");
  EXPECT_EQ(book.names()[0].resolve_failures, 1u);
}

TEST(AddressBookTest, IpLiteralsAreNeverLookedUp) {
  AddressBook book({Target("127.0.0.1", 9000), Target("shop", 80)},
                   {V4("127.0.0.1:9000", "127.0.0.1", 9000), V4("shop:80", "10.0.0.1", 80)});
  EXPECT_TRUE(book.has_names());
  FakeDns dns;
  dns.answers["shop"] = "10.0.0.1";
  EXPECT_FALSE(book.Refresh(dns.fn()));
  EXPECT_EQ(dns.calls, 1);
  EXPECT_FALSE(book.names()[0].is_name);
  EXPECT_EQ(Ip(book.servers()[0]), "127.0.0.1");
}

TEST(AddressBookTest, OnlyLiteralsMeansNoNames) {
  AddressBook book({Target("::1", 9000)}, {V4("[::1]:9000", "127.0.0.1", 9000)});
  EXPECT_FALSE(book.has_names());
}

TEST(ResolveHostTest, LocalhostPrefersIpv4) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string error;
  ASSERT_TRUE(ResolveHost("localhost", 8080, &addr, &len, &error)) << error;
  EXPECT_EQ(addr.ss_family, AF_INET);
}

TEST(ResolveHostTest, UnknownNameFailsWithTheResolversMessage) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string error;
  EXPECT_FALSE(ResolveHost("no-such-host.invalid", 80, &addr, &len, &error));
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace tidegate::proxy
