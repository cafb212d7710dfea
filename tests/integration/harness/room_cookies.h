// A visitor's jar of one waiting room's cookies (tg_pass_<room>,
// tg_wait_<room>) for tests that send raw requests: Cookie() is the request
// header's value, Absorb() takes the room's cookies from a response's
// Set-Cookie lines (anything else the origin sets is ignored). A value
// cleared with Max-Age=0 is absorbed as the empty string it carries.
// Header-only; plain value type, one thread at a time.
#pragma once

#include <string>

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

}  // namespace tidegate::itest
