#include "proxy/http1_codec.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace tidegate::proxy {
namespace {

TEST(Http1CodecSmoke, ParsesSimpleGet) {
  struct Cb : Http1Parser::Callbacks {
    std::vector<RequestHead> heads;
    int completes = 0;
    void OnRequestHead(RequestHead&& h) override { heads.push_back(std::move(h)); }
    void OnBody(const char*, size_t) override {}
    void OnMessageComplete() override { ++completes; }
  } cb;
  Http1Parser parser(Http1Parser::Kind::kRequest, ParseLimits{}, &cb);
  std::string in = "GET /a HTTP/1.1\r\nHost: Shop.Example\r\n\r\n";
  EXPECT_EQ(parser.Execute(in.data(), in.size()), in.size());
  EXPECT_FALSE(parser.failed()) << parser.error().reason;
  ASSERT_EQ(cb.heads.size(), 1u);
  EXPECT_EQ(cb.heads[0].host, "shop.example");
  EXPECT_EQ(cb.completes, 1);
}

}  // namespace
}  // namespace tidegate::proxy
