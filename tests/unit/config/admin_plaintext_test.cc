// Issue 14: an admin listener that is not loopback needs [admin.tls] or an
// explicit [admin] allow_plaintext = true (bearer tokens in clear).
#include <gtest/gtest.h>

#include "config/loader.h"
#include "tests/unit/config/test_helpers.h"

namespace tidegate::config {
namespace {

using testing::AllErrors;
using testing::HasError;
using testing::InTestData;
using testing::LoadWithMinimal;

TEST(AdminPlaintextTest, NonLoopbackListenWithoutTlsIsRefusedAtTheListenKey) {
  LoadResult result = LoadWithMinimal("[admin]\nlisten = \"0.0.0.0:9901\"\n");
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(HasError(result, "admin.listen", "allow_plaintext")) << AllErrors(result);
  bool positioned = false;
  for (const ConfigError& e : result.errors) {
    if (e.key != "admin.listen") continue;
    positioned = true;
    EXPECT_EQ(e.file, InTestData("main.toml"));
    EXPECT_EQ(e.line, 8);  // after the 6 lines of the minimal config and "[admin]"
    EXPECT_EQ(e.column, 10);
    EXPECT_NE(FormatError(e).find("main.toml:8:10 admin.listen: "), std::string::npos)
        << FormatError(e);
  }
  EXPECT_TRUE(positioned);
  for (const char* listen : {"10.0.0.5:9901", "[2001:db8::1]:9901", "[::]:9901"}) {
    LoadResult r = LoadWithMinimal(std::string("[admin]\nlisten = \"") + listen + "\"\n");
    EXPECT_TRUE(HasError(r, "admin.listen", "in clear")) << listen << "\n" << AllErrors(r);
  }
}

TEST(AdminPlaintextTest, AllowPlaintextAcceptsIt) {
  LoadResult result =
      LoadWithMinimal("[admin]\nlisten = \"10.0.0.5:9901\"\nallow_plaintext = true\n");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  EXPECT_TRUE(result.config->admin.allow_plaintext);
  EXPECT_EQ(result.config->admin.listen.host, "10.0.0.5");
}

TEST(AdminPlaintextTest, TlsMakesANonLoopbackListenFine) {
  LoadResult result = LoadWithMinimal(
      "[admin]\nlisten = \"10.0.0.5:9901\"\n[admin.tls]\ncert = \"tls/shop.pem\"\nkey = "
      "\"tls/shop.key\"\n");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  EXPECT_FALSE(result.config->admin.allow_plaintext);
}

TEST(AdminPlaintextTest, LoopbackAndUnixSocketsNeverNeedIt) {
  for (const char* listen :
       {"127.0.0.1:9901", "127.1.2.3:9901", "[::1]:9901", "unix:/run/tidegate/admin.sock"}) {
    LoadResult r = LoadWithMinimal(std::string("[admin]\nlisten = \"") + listen + "\"\n");
    EXPECT_TRUE(r.ok()) << listen << "\n" << AllErrors(r);
  }
  LoadResult absent = LoadWithMinimal("");  // the default 127.0.0.1:9901
  EXPECT_TRUE(absent.ok()) << AllErrors(absent);
  EXPECT_FALSE(absent.config->admin.allow_plaintext);
}

TEST(AdminPlaintextTest, AllowPlaintextMustBeABoolean) {
  LoadResult result = LoadWithMinimal("[admin]\nallow_plaintext = \"yes\"\n");
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(HasError(result, "admin.allow_plaintext", "")) << AllErrors(result);
}

}  // namespace
}  // namespace tidegate::config
