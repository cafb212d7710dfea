// Audit 19 F11: every page under /.tidegate/ serves GET and HEAD only; any
// other method gets 405 with `Allow: GET, HEAD` from the built-in router
// (never the page, never the origin).
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/harness/proxy_fixture.h"

namespace tidegate::itest {
namespace {

class BuiltinMethodsTest : public ProxyTest {};

TEST_F(BuiltinMethodsTest, EveryRouteAnswersOtherMethodsWith405AndAllow) {
  StartWithDemoShop();
  ASSERT_TRUE(Started());
  for (const char* path :
       {"/.tidegate/health", "/.tidegate/health/", "/.tidegate/queue",
        "/.tidegate/assets/banner.css", "/.tidegate/status", "/.tidegate/status.json"}) {
    for (const char* method : {"PUT", "DELETE", "POST", "OPTIONS", "PATCH"}) {
      HttpMessage r = RoundTrip(std::string(method) + " " + path +
                                " HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 0\r\n"
                                "Connection: close\r\n\r\n");
      ASSERT_TRUE(r.ok) << r.error;
      EXPECT_EQ(r.status, 405) << method << " " << path << "\n" << Printable(r.raw);
      EXPECT_EQ(r.Header("Allow").value_or(""), "GET, HEAD") << method << " " << path;
    }
    HttpMessage get = RoundTrip(Get(path, "Connection: close\r\n"));
    ASSERT_TRUE(get.ok) << get.error;
    EXPECT_EQ(get.status, 200) << path << "\n" << Printable(get.raw);
  }
  // A path with no page is still 404, whatever the method.
  HttpMessage none =
      RoundTrip("DELETE /.tidegate/nope HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(none.ok) << none.error;
  EXPECT_EQ(none.status, 404) << Printable(none.raw);
}

}  // namespace
}  // namespace tidegate::itest
