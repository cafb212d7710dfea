#include "banner/banner_gates.h"

#include <gtest/gtest.h>

namespace tidegate::banner {
namespace {

using proxy::BodyFraming;

proxy::ResponseHead Html200(const std::vector<std::pair<std::string, std::string>>& extra = {}) {
  proxy::ResponseHead head;
  head.status = 200;
  head.framing = BodyFraming::kContentLength;
  head.content_length = 100;
  head.headers.Add("Content-Type", "text/html; charset=utf-8");
  for (const auto& [name, value] : extra) head.headers.Add(name, value);
  return head;
}

proxy::RequestHead Request(const std::string& method, const std::string& target) {
  proxy::RequestHead head;
  head.method = method;
  head.target = target;
  return head;
}

std::unique_ptr<BannerGates> Gates(config::BannerConfig config = {}) {
  std::string error;
  auto gates = BannerGates::Create(config, &error);
  EXPECT_TRUE(gates) << error;
  return gates;
}

TEST(BannerGatesTest, HtmlPagePasses) {
  auto gates = Gates();
  ResponseVerdict v = gates->CheckResponse(Html200(), false);
  EXPECT_EQ(v.skip, SkipReason::kNone);
  EXPECT_EQ(v.coding, BodyCoding::kIdentity);
  EXPECT_EQ(gates->CheckRequest(Request("GET", "/")), SkipReason::kNone);
}

TEST(BannerGatesTest, OnlyGet) {
  auto gates = Gates();
  EXPECT_EQ(gates->CheckRequest(Request("HEAD", "/")), SkipReason::kMethod);
  EXPECT_EQ(gates->CheckRequest(Request("POST", "/")), SkipReason::kMethod);
}

TEST(BannerGatesTest, RoutesMatchTheNormalizedPath) {
  config::BannerConfig config;
  config.match = {"^/products", "^/$"};
  auto gates = Gates(config);
  EXPECT_EQ(gates->CheckRequest(Request("GET", "/products/1")), SkipReason::kNone);
  EXPECT_EQ(gates->CheckRequest(Request("GET", "//products/../products/2?x")), SkipReason::kNone);
  EXPECT_EQ(gates->CheckRequest(Request("GET", "/%70roducts")), SkipReason::kNone);
  // The path policy of the features and rooms (proxy/path_pattern.h): any case.
  EXPECT_EQ(gates->CheckRequest(Request("GET", "/Products/1")), SkipReason::kNone);
  EXPECT_EQ(gates->CheckRequest(Request("GET", "/PRODUCTS")), SkipReason::kNone);
  EXPECT_EQ(gates->CheckRequest(Request("GET", "/")), SkipReason::kNone);
  EXPECT_EQ(gates->CheckRequest(Request("GET", "/checkout")), SkipReason::kRoute);
}

TEST(BannerGatesTest, StatusOtherThan200) {
  auto gates = Gates();
  for (int status : {204, 206, 304, 301, 404, 500, 503}) {
    proxy::ResponseHead head = Html200();
    head.status = status;
    EXPECT_EQ(gates->CheckResponse(head, false).skip, SkipReason::kStatus) << status;
  }
}

TEST(BannerGatesTest, NoBody) {
  proxy::ResponseHead head = Html200();
  head.framing = BodyFraming::kNone;
  EXPECT_EQ(Gates()->CheckResponse(head, false).skip, SkipReason::kNoBody);
}

TEST(BannerGatesTest, ContentTypeList) {
  auto gates = Gates();
  for (const char* type : {"application/json", "text/plain", "text/htmlx", "image/png"}) {
    proxy::ResponseHead head = Html200();
    head.headers.Set("Content-Type", type);
    EXPECT_EQ(gates->CheckResponse(head, false).skip, SkipReason::kContentType) << type;
  }
  proxy::ResponseHead none = Html200();
  none.headers.Remove("Content-Type");
  EXPECT_EQ(gates->CheckResponse(none, false).skip, SkipReason::kContentType);
  proxy::ResponseHead upper = Html200();
  upper.headers.Set("Content-Type", "TEXT/HTML ;charset=UTF-8");
  EXPECT_EQ(gates->CheckResponse(upper, false).skip, SkipReason::kNone);

  config::BannerConfig config;
  config.content_types = {"text/html", "application/xhtml+xml"};
  proxy::ResponseHead xhtml = Html200();
  xhtml.headers.Set("Content-Type", "application/xhtml+xml");
  EXPECT_EQ(Gates(config)->CheckResponse(xhtml, false).skip, SkipReason::kNone);
}

TEST(BannerGatesTest, NoTransform) {
  auto gates = Gates();
  EXPECT_EQ(
      gates->CheckResponse(Html200({{"Cache-Control", "max-age=60, No-Transform"}}), false).skip,
      SkipReason::kNoTransform);
  EXPECT_EQ(
      gates
          ->CheckResponse(Html200({{"Cache-Control", "public"}, {"cache-control", "no-transform"}}),
                          false)
          .skip,
      SkipReason::kNoTransform);
  EXPECT_EQ(gates->CheckResponse(Html200({{"Cache-Control", "no-cache"}}), false).skip,
            SkipReason::kNone);
}

TEST(BannerGatesTest, Attachment) {
  auto gates = Gates();
  EXPECT_EQ(
      gates->CheckResponse(Html200({{"Content-Disposition", "attachment; filename=a.html"}}), false)
          .skip,
      SkipReason::kAttachment);
  EXPECT_EQ(gates->CheckResponse(Html200({{"Content-Disposition", "ATTACHMENT"}}), false).skip,
            SkipReason::kAttachment);
  EXPECT_EQ(gates->CheckResponse(Html200({{"Content-Disposition", "inline"}}), false).skip,
            SkipReason::kNone);
}

TEST(BannerGatesTest, EncodingsInRecodeMode) {
  auto gates = Gates();
  EXPECT_EQ(gates->CheckResponse(Html200({{"Content-Encoding", "gzip"}}), false).coding,
            BodyCoding::kGzip);
  EXPECT_EQ(gates->CheckResponse(Html200({{"Content-Encoding", "x-gzip"}}), false).coding,
            BodyCoding::kGzip);
  EXPECT_EQ(gates->CheckResponse(Html200({{"Content-Encoding", "deflate"}}), false).coding,
            BodyCoding::kDeflate);
  EXPECT_EQ(gates->CheckResponse(Html200({{"Content-Encoding", "identity"}}), false).skip,
            SkipReason::kNone);
  for (const char* coding : {"br", "zstd", "gzip, br", "compress"}) {
    EXPECT_EQ(gates->CheckResponse(Html200({{"Content-Encoding", coding}}), false).skip,
              SkipReason::kEncoding)
        << coding;
  }
  EXPECT_EQ(gates
                ->CheckResponse(
                    Html200({{"Content-Encoding", "gzip"}, {"Content-Encoding", "gzip"}}), false)
                .skip,
            SkipReason::kEncoding);
}

TEST(BannerGatesTest, CompressedIsSkippedInIdentityMode) {
  config::BannerConfig config;
  config.compressed = config::BannerCompressed::kIdentity;
  auto gates = Gates(config);
  EXPECT_EQ(gates->CheckResponse(Html200({{"Content-Encoding", "gzip"}}), false).skip,
            SkipReason::kEncoding);
  EXPECT_EQ(gates->CheckResponse(Html200(), false).skip, SkipReason::kNone);
}

TEST(BannerGatesTest, Http10ClientWithContentLength) {
  auto gates = Gates();
  // Identity keeps a Content-Length (the filter holds the head): allowed.
  EXPECT_EQ(gates->CheckResponse(Html200(), true).skip, SkipReason::kNone);
  proxy::ResponseHead gzip = Html200();
  gzip.headers.Add("Content-Encoding", "gzip");
  EXPECT_EQ(gates->CheckResponse(gzip, true).skip, SkipReason::kHttp10Length);
  proxy::ResponseHead chunked = Html200();
  chunked.framing = BodyFraming::kChunked;
  EXPECT_EQ(gates->CheckResponse(chunked, true).skip, SkipReason::kNone);
}

TEST(BannerGatesTest, ReasonNames) {
  EXPECT_EQ(SkipReasonName(SkipReason::kEncoding), "encoding");
  EXPECT_EQ(SkipReasonName(SkipReason::kNoBodyTag), "no_body_tag");
  for (size_t i = 0; i < kSkipReasonCount; ++i) {
    EXPECT_NE(SkipReasonName(static_cast<SkipReason>(i)), "unknown");
  }
}

}  // namespace
}  // namespace tidegate::banner
