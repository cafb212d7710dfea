#include "banner/rewritten_head.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tidegate::banner {
namespace {

std::vector<std::string> Values(const proxy::HeaderList& headers, const std::string& name) {
  std::vector<std::string> out;
  for (const proxy::Header& h : headers.fields()) {
    if (proxy::EqualsIgnoreCase(h.name, name)) out.push_back(h.value);
  }
  return out;
}

TEST(RewrittenHeadTest, DropsTheOriginsByteFieldsAndTheNamedOnesKeepingTheOrder) {
  proxy::HeaderList headers;
  headers.Add("Content-Type", "text/html");
  headers.Add("content-md5", "abc");
  headers.Add("Accept-Ranges", "bytes");
  headers.Add("Content-Encoding", "identity");
  headers.Add("X-Kept", "1");
  EXPECT_FALSE(FixRewrittenHead(headers, "Accept-Encoding", {"Content-Encoding"}));
  ASSERT_EQ(headers.fields().size(), 3u);
  EXPECT_EQ(headers.fields()[0].name, "Content-Type");
  EXPECT_EQ(headers.fields()[1].name, "X-Kept");
  EXPECT_EQ(Values(headers, "Vary"), std::vector<std::string>{"Accept-Encoding"});
}

TEST(RewrittenHeadTest, WeakensAStrongEtagOnly) {
  proxy::HeaderList headers;
  headers.Add("ETag", "\"v1\"");
  FixRewrittenHead(headers, "Accept-Language", {});
  EXPECT_EQ(Values(headers, "ETag"), std::vector<std::string>{"W/\"v1\""});
  proxy::HeaderList weak;
  weak.Add("etag", "w/\"v1\"");
  FixRewrittenHead(weak, "Accept-Language", {});
  EXPECT_EQ(Values(weak, "ETag"), std::vector<std::string>{"w/\"v1\""});
}

TEST(RewrittenHeadTest, VaryGainsTheTokenOnceInTheFirstVaryField) {
  proxy::HeaderList headers;
  headers.Add("Content-MD5", "gone");  // the first Vary moves to index 0
  headers.Add("Vary", "Cookie");
  headers.Add("Vary", "Origin");
  FixRewrittenHead(headers, "Accept-Encoding", {});
  EXPECT_EQ(Values(headers, "Vary"),
            (std::vector<std::string>{"Cookie, Accept-Encoding", "Origin"}));

  proxy::HeaderList listed;
  listed.Add("Vary", "Cookie");
  listed.Add("Vary", "accept-encoding");
  FixRewrittenHead(listed, "Accept-Encoding", {});
  EXPECT_EQ(Values(listed, "Vary"), (std::vector<std::string>{"Cookie", "accept-encoding"}));

  proxy::HeaderList star;
  star.Add("Vary", "*");
  FixRewrittenHead(star, "Accept-Language", {});
  EXPECT_EQ(Values(star, "Vary"), std::vector<std::string>{"*"});

  proxy::HeaderList empty;
  empty.Add("Vary", "");
  FixRewrittenHead(empty, "Accept-Language", {});
  EXPECT_EQ(Values(empty, "Vary"), std::vector<std::string>{"Accept-Language"});
}

TEST(RewrittenHeadTest, SaysWhetherACacheControlFieldIsThere) {
  proxy::HeaderList headers;
  headers.Add("Cache-Control", "max-age=60");
  EXPECT_TRUE(FixRewrittenHead(headers, "Accept-Language", {"Surrogate-Control"}));
  proxy::HeaderList none;
  none.Add("Surrogate-Control", "max-age=600");
  EXPECT_FALSE(FixRewrittenHead(none, "Accept-Language", {"Surrogate-Control"}));
  EXPECT_TRUE(Values(none, "Surrogate-Control").empty());
}

}  // namespace
}  // namespace tidegate::banner
