// A visitor's jar of one waiting room's cookies (tg_pass_<room>,
// tg_wait_<room>) for tests that send raw requests: Cookie() is the request
// header's value, Absorb() takes the room's cookies from a response's
// Set-Cookie lines (anything else the origin sets is ignored). A value
// cleared with Max-Age=0 is absorbed as the empty string it carries.
// Header-only; plain value type, one thread at a time.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/http_reader.h"

namespace tidegate::itest {

struct RoomCookies {
  std::string room = "shop";
  std::string pass;
  std::string wait;

  std::string Cookie() const {
    std::string c;
    if (!pass.empty()) c += "tg_pass_" + room + "=" + pass;
    if (!wait.empty()) c += std::string(c.empty() ? "" : "; ") + "tg_wait_" + room + "=" + wait;
    return c;
  }
  void Absorb(const HttpMessage& m) {
    for (const auto& [name, value] : m.headers) {
      if (name != "Set-Cookie" && name != "set-cookie") continue;
      std::string pair = value.substr(0, value.find(';'));
      std::string n = pair.substr(0, pair.find('='));
      std::string v = pair.substr(pair.find('=') + 1);
      if (n == "tg_pass_" + room) pass = v;
      if (n == "tg_wait_" + room) wait = v;
    }
  }
  bool HasPlace() const { return !pass.empty() || !wait.empty(); }
};

// GET `target` on `port` (Host: shop.test) with the jar's cookies, on a new
// connection closed after the answer; the answer's room cookies go into
// the jar. A gtest failure when no answer comes within 5 s.
inline HttpMessage GetWithRoomCookies(uint16_t port, const std::string& target, RoomCookies* jar) {
  auto conn = ConnectOrFail(port);
  if (!conn) return {};
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: shop.test\r\n";
  if (!jar->Cookie().empty()) req += "Cookie: " + jar->Cookie() + "\r\n";
  req += "Connection: close\r\n\r\n";
  EXPECT_TRUE(conn->Send(req));
  HttpMessage m = ReadResponse(*conn, Within(std::chrono::milliseconds(5000)));
  EXPECT_TRUE(m.ok) << m.error;
  jar->Absorb(m);
  return m;
}

}  // namespace tidegate::itest
