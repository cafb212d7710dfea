#include "banner/gzip_response.h"

#include <gtest/gtest.h>

namespace tidegate::banner {
namespace {

proxy::ResponseHead Response(const std::string& type, uint64_t length = 5000, int status = 200) {
  proxy::ResponseHead head;
  head.status = status;
  head.framing = proxy::BodyFraming::kContentLength;
  head.content_length = length;
  if (!type.empty()) head.headers.Add("Content-Type", type);
  return head;
}

TEST(GzipResponseTest, CompressibleTypes) {
  for (const char* type : {"text/html; charset=utf-8", "TEXT/CSS", "text/plain", "application/json",
                           "application/javascript", "application/x-javascript", "application/xml",
                           "image/svg+xml", "application/ld+json", "application/manifest+json"}) {
    EXPECT_TRUE(IsCompressibleType(type)) << type;
  }
  for (const char* type :
       {"image/png", "image/jpeg", "font/woff2", "application/zip", "application/octet-stream",
        "video/mp4", "text/event-stream", "+json", "application/jsonx", ""}) {
    EXPECT_FALSE(IsCompressibleType(type)) << type;
  }
}

TEST(GzipResponseTest, Plans) {
  EXPECT_EQ(PlanGzip(Response("text/html"), false), GzipPlan::kWhole);
  EXPECT_EQ(PlanGzip(Response("application/json", 5000, 404), false), GzipPlan::kWhole);
  EXPECT_EQ(PlanGzip(Response("text/html", kGzipWholeBytes + 1), false), GzipPlan::kStream);
  // HTTP/1.0: no gzip that would lose the Content-Length.
  EXPECT_EQ(PlanGzip(Response("text/html", kGzipWholeBytes + 1), true), GzipPlan::kNone);
  EXPECT_EQ(PlanGzip(Response("text/html", kGzipWholeBytes), true), GzipPlan::kWhole);
  proxy::ResponseHead chunked = Response("text/html");
  chunked.framing = proxy::BodyFraming::kChunked;
  // Unknown length: maybe a feed or a page flushed early; never held.
  EXPECT_EQ(PlanGzip(chunked, false), GzipPlan::kStream);
  EXPECT_EQ(PlanGzip(chunked, true), GzipPlan::kStream);  // close-delimited anyway
  proxy::ResponseHead until_close = Response("text/html");
  until_close.framing = proxy::BodyFraming::kUntilClose;
  EXPECT_EQ(PlanGzip(until_close, false), GzipPlan::kStream);

  EXPECT_EQ(PlanGzip(Response("image/png"), false), GzipPlan::kNone);
  EXPECT_EQ(PlanGzip(Response(""), false), GzipPlan::kNone);
  EXPECT_EQ(PlanGzip(Response("text/html", kGzipMinBytes - 1), false), GzipPlan::kNone);
  for (int status : {204, 206, 301, 304}) {
    EXPECT_EQ(PlanGzip(Response("text/html", 5000, status), false), GzipPlan::kNone) << status;
  }
  proxy::ResponseHead none = Response("text/html");
  none.framing = proxy::BodyFraming::kNone;
  EXPECT_EQ(PlanGzip(none, false), GzipPlan::kNone);
  proxy::ResponseHead coded = Response("text/html");
  coded.headers.Add("Content-Encoding", "br");
  EXPECT_EQ(PlanGzip(coded, false), GzipPlan::kNone);
  proxy::ResponseHead identity = Response("text/html");
  identity.headers.Add("Content-Encoding", "identity");
  EXPECT_EQ(PlanGzip(identity, false), GzipPlan::kWhole);
  proxy::ResponseHead range = Response("text/html");
  range.headers.Add("Content-Range", "bytes 0-99/5000");
  EXPECT_EQ(PlanGzip(range, false), GzipPlan::kNone);
  proxy::ResponseHead no_transform = Response("application/json");
  no_transform.headers.Add("Cache-Control", "max-age=60, no-transform");
  EXPECT_EQ(PlanGzip(no_transform, false), GzipPlan::kNone);
}

TEST(GzipResponseTest, MarkGzippedFixesTheHead) {
  proxy::HeaderList h;
  h.Add("Content-Type", "text/html");
  h.Add("ETag", "\"abc\"");
  h.Add("Content-MD5", "x");
  h.Add("Accept-Ranges", "bytes");
  h.Add("Content-Encoding", "identity");
  h.Add("Vary", "Cookie");
  MarkGzipped(h);
  EXPECT_EQ(*h.Find("ETag"), "W/\"abc\"");
  EXPECT_EQ(h.Find("Content-MD5"), nullptr);
  EXPECT_EQ(h.Find("Accept-Ranges"), nullptr);
  EXPECT_EQ(h.Count("Content-Encoding"), 1u);
  EXPECT_EQ(*h.Find("Content-Encoding"), "gzip");
  EXPECT_EQ(*h.Find("Vary"), "Cookie, Accept-Encoding");

  proxy::HeaderList weak;
  weak.Add("ETag", "W/\"abc\"");
  weak.Add("Vary", "accept-encoding");
  MarkGzipped(weak);
  EXPECT_EQ(*weak.Find("ETag"), "W/\"abc\"");
  EXPECT_EQ(*weak.Find("Vary"), "accept-encoding");
  proxy::HeaderList star;
  star.Add("Vary", "*");
  MarkGzipped(star);
  EXPECT_EQ(*star.Find("Vary"), "*");
  proxy::HeaderList bare;
  MarkGzipped(bare);
  EXPECT_EQ(*bare.Find("Vary"), "Accept-Encoding");
}

}  // namespace
}  // namespace tidegate::banner
