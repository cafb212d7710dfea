#include "proxy/forwarding_headers.h"

#include <gtest/gtest.h>

#include <string>

namespace tidegate::proxy {
namespace {

RequestHead MakeRequest() {
  RequestHead head;
  head.method = "GET";
  head.target = "/";
  head.headers.Add("Host", "shop.example");
  return head;
}

TEST(ForwardingHeadersTest, AddsForwardingFields) {
  RequestHead head = MakeRequest();
  PrepareUpstreamRequest(head, {"10.0.0.1", false});
  ASSERT_NE(head.headers.Find("X-Forwarded-For"), nullptr);
  EXPECT_EQ(*head.headers.Find("X-Forwarded-For"), "10.0.0.1");
  EXPECT_EQ(*head.headers.Find("X-Forwarded-Proto"), "http");
  EXPECT_EQ(*head.headers.Find("Via"), "1.1 tidegate");
  EXPECT_EQ(*head.headers.Find("Host"), "shop.example");
}

TEST(ForwardingHeadersTest, AppendsToExistingLists) {
  RequestHead head = MakeRequest();
  head.headers.Add("X-Forwarded-For", "1.1.1.1");
  head.headers.Add("x-forwarded-for", "2.2.2.2");
  head.headers.Add("Via", "1.0 cdn");
  head.headers.Add("X-Forwarded-Proto", "http");
  PrepareUpstreamRequest(head, {"10.0.0.1", true});
  EXPECT_EQ(head.headers.Count("X-Forwarded-For"), 1u);
  EXPECT_EQ(*head.headers.Find("X-Forwarded-For"), "1.1.1.1, 2.2.2.2, 10.0.0.1");
  EXPECT_EQ(*head.headers.Find("Via"), "1.0 cdn, 1.1 tidegate");
  EXPECT_EQ(head.headers.Count("X-Forwarded-Proto"), 1u);
  EXPECT_EQ(*head.headers.Find("X-Forwarded-Proto"), "https");
}

TEST(ForwardingHeadersTest, RemovesHopByHopUpgradeAndExpect) {
  RequestHead head = MakeRequest();
  head.headers.Add("Connection", "Upgrade, HTTP2-Settings, X-Secret");
  head.headers.Add("Upgrade", "h2c");
  head.headers.Add("HTTP2-Settings", "AAMAAABkAAQAAP__");
  head.headers.Add("X-Secret", "1");
  head.headers.Add("Keep-Alive", "timeout=5");
  head.headers.Add("Expect", "100-continue");
  head.headers.Add("Content-Length", "5");
  PrepareUpstreamRequest(head, {"10.0.0.1", false});
  for (const char* name :
       {"Connection", "Upgrade", "HTTP2-Settings", "X-Secret", "Keep-Alive", "Expect"}) {
    EXPECT_EQ(head.headers.Find(name), nullptr) << name;
  }
  EXPECT_NE(head.headers.Find("Content-Length"), nullptr);  // framing is the stream's job
}

TEST(ForwardingHeadersTest, ConnectionCannotRemoveTrustedHeaders) {
  const std::vector<std::string> trusted = {"x-my-trusted", "x-client-cert"};
  RequestHead head = MakeRequest();
  head.headers.Add("Connection", "X-My-Trusted, x-client-cert, X-Other");
  head.headers.Add("X-My-Trusted", "from-the-front");
  head.headers.Add("X-Client-Cert", "CN=shop");
  head.headers.Add("X-Other", "1");
  PrepareUpstreamRequest(head, {"10.0.0.1", false, &trusted});
  ASSERT_NE(head.headers.Find("X-My-Trusted"), nullptr);
  EXPECT_EQ(*head.headers.Find("X-My-Trusted"), "from-the-front");
  ASSERT_NE(head.headers.Find("X-Client-Cert"), nullptr);
  EXPECT_EQ(head.headers.Find("X-Other"), nullptr);  // not listed: still hop-by-hop
  EXPECT_EQ(head.headers.Find("Connection"), nullptr);

  // Without the list the same request loses the field.
  RequestHead plain = MakeRequest();
  plain.headers.Add("Connection", "X-My-Trusted");
  plain.headers.Add("X-My-Trusted", "from-the-front");
  PrepareUpstreamRequest(plain, {"10.0.0.1", false});
  EXPECT_EQ(plain.headers.Find("X-My-Trusted"), nullptr);
}

// Audit 15: fields some origins route on instead of the target never carry
// a client's path past the gates; one a trusted front adds (listed in
// trusted_headers) still goes through.
TEST(ForwardingHeadersTest, UrlOverrideFieldsAreDroppedUnlessTrusted) {
  const char* names[] = {
      "X-Original-URL",        "x-rewrite-url",      "X-Original-URI",        "X-Forwarded-Uri",
      "X-Forwarded-Path",      "X-Forwarded-Prefix", "X-Envoy-Original-Path", "Request-Uri",
      "X-HTTP-DestinationURL", "X-Proxy-URL"};
  RequestHead head = MakeRequest();
  for (const char* name : names) head.headers.Add(name, "/checkout");
  head.headers.Add("X-Original-Other", "kept");
  PrepareUpstreamRequest(head, {"10.0.0.1", false});
  for (const char* name : names) EXPECT_EQ(head.headers.Find(name), nullptr) << name;
  EXPECT_NE(head.headers.Find("X-Original-Other"), nullptr);
  EXPECT_NE(head.headers.Find("X-Forwarded-For"), nullptr);

  const std::vector<std::string> trusted = {"x-forwarded-prefix"};
  RequestHead fronted = MakeRequest();
  fronted.headers.Add("X-Forwarded-Prefix", "/shop");
  fronted.headers.Add("X-Original-URL", "/checkout");
  PrepareUpstreamRequest(fronted, {"10.0.0.1", false, &trusted});
  ASSERT_NE(fronted.headers.Find("X-Forwarded-Prefix"), nullptr);
  EXPECT_EQ(*fronted.headers.Find("X-Forwarded-Prefix"), "/shop");
  EXPECT_EQ(fronted.headers.Find("X-Original-URL"), nullptr);
}

TEST(ForwardingHeadersTest, StaffBypassCookieNeverReachesTheOrigin) {
  RequestHead head = MakeRequest();
  head.headers.Add("Cookie", "a=1; tg_bypass=v1.k1.9.mac; __Host-tg_bypass=v1.k1.9.mac; b=2");
  head.headers.Add("Cookie", "tg_bypass=v1.k1.9.mac");
  PrepareUpstreamRequest(head, {"10.0.0.1", false});
  EXPECT_EQ(head.headers.Count("Cookie"), 1u);
  EXPECT_EQ(*head.headers.Find("Cookie"), "a=1; b=2");
}

TEST(ForwardingHeadersTest, ClientResponseDropsFramingOnlyWithABody) {
  ResponseHead with_body;
  with_body.status = 200;
  with_body.framing = BodyFraming::kChunked;
  with_body.headers.Add("Transfer-Encoding", "chunked");
  with_body.headers.Add("Connection", "keep-alive");
  PrepareClientResponse(with_body, 1);
  EXPECT_EQ(with_body.headers.Find("Transfer-Encoding"), nullptr);
  EXPECT_EQ(with_body.headers.Find("Connection"), nullptr);

  ResponseHead not_modified;
  not_modified.status = 304;
  not_modified.framing = BodyFraming::kNone;
  not_modified.headers.Add("Content-Length", "1234");
  not_modified.headers.Add("Transfer-Encoding", "chunked");
  PrepareClientResponse(not_modified, 1);
  ASSERT_NE(not_modified.headers.Find("Content-Length"), nullptr);
  EXPECT_EQ(*not_modified.headers.Find("Content-Length"), "1234");
  EXPECT_NE(not_modified.headers.Find("Transfer-Encoding"), nullptr);
}

// RFC 9110 §8.6 and RFC 9112 §6.1: no framing field in a 204, and no
// Transfer-Encoding to an HTTP/1.0 client, whatever the origin sent.
TEST(ForwardingHeadersTest, BodilessResponsesLoseFramingFieldsTheyMayNotCarry) {
  ResponseHead no_content;
  no_content.status = 204;
  no_content.framing = BodyFraming::kNone;
  no_content.headers.Add("Content-Length", "5");
  no_content.headers.Add("Transfer-Encoding", "chunked");
  no_content.headers.Add("ETag", "\"x\"");
  PrepareClientResponse(no_content, 1);
  EXPECT_EQ(no_content.headers.Find("Content-Length"), nullptr);
  EXPECT_EQ(no_content.headers.Find("Transfer-Encoding"), nullptr);
  EXPECT_NE(no_content.headers.Find("ETag"), nullptr);

  ResponseHead head_reply;  // the answer to HEAD, for an HTTP/1.0 client
  head_reply.status = 200;
  head_reply.framing = BodyFraming::kNone;
  head_reply.headers.Add("Transfer-Encoding", "chunked");
  head_reply.headers.Add("Content-Length", "12");
  PrepareClientResponse(head_reply, 0);
  EXPECT_EQ(head_reply.headers.Find("Transfer-Encoding"), nullptr);
  ASSERT_NE(head_reply.headers.Find("Content-Length"), nullptr);
}

// Audit 19 F7: a 426 keeps the origin's Upgrade fields (RFC 9110 §15.5.22);
// any other status loses them, and Connection never passes.
TEST(ForwardingHeadersTest, OnlyA426KeepsUpgrade) {
  for (int status : {426, 200, 400, 101}) {
    ResponseHead head;
    head.status = status;
    head.framing = BodyFraming::kContentLength;
    head.headers.Add("Upgrade", "websocket");
    head.headers.Add("Connection", "Upgrade, X-Hop");
    head.headers.Add("X-Hop", "1");
    head.headers.Add("upgrade", "h2c");
    head.headers.Add("Content-Length", "5");
    PrepareClientResponse(head, 1);
    EXPECT_EQ(head.headers.Find("Connection"), nullptr) << status;
    EXPECT_EQ(head.headers.Find("X-Hop"), nullptr) << status;
    EXPECT_EQ(head.headers.Find("Content-Length"), nullptr) << status;
    if (status == 426) {
      ASSERT_EQ(head.headers.Count("Upgrade"), 2u);
      EXPECT_EQ(head.headers.fields()[0].value, "websocket");
      EXPECT_EQ(head.headers.fields()[1].value, "h2c");
    } else {
      EXPECT_EQ(head.headers.Count("Upgrade"), 0u) << status;
    }
  }
}

TEST(ForwardingHeadersTest, AnHttp10RequestWithoutHostGetsTheOrigins) {
  RequestHead head;
  head.method = "GET";
  head.target = "/";
  head.version_minor = 0;
  ForwardingInfo info{"10.0.0.1", false};
  info.origin_host = "shop.internal:8080";
  PrepareUpstreamRequest(head, info);
  ASSERT_NE(head.headers.Find("Host"), nullptr);
  EXPECT_EQ(*head.headers.Find("Host"), "shop.internal:8080");

  RequestHead unknown = head;  // no origin address known (a unix socket)
  unknown.headers.clear();
  PrepareUpstreamRequest(unknown, {"10.0.0.1", false});
  EXPECT_EQ(*unknown.headers.Find("Host"), "localhost");

  RequestHead with_host = MakeRequest();  // sent: kept as is
  with_host.version_minor = 0;
  with_host.host = "shop.example";
  PrepareUpstreamRequest(with_host, info);
  EXPECT_EQ(with_host.headers.Count("Host"), 1u);
  EXPECT_EQ(*with_host.headers.Find("Host"), "shop.example");
}

TEST(ForwardingHeadersTest, MaxForwardsOnOptionsAndTrace) {
  struct Case {
    const char* method;
    const char* value;  // nullptr: no field
    MaxForwardsStep step;
    const char* after;  // the field afterwards, nullptr: absent
  };
  const Case cases[] = {
      {"OPTIONS", "5", MaxForwardsStep::kForward, "4"},
      {"TRACE", "1", MaxForwardsStep::kForward, "0"},
      {"OPTIONS", "0", MaxForwardsStep::kAnswerHere, "0"},
      {"TRACE", "00", MaxForwardsStep::kAnswerHere, "00"},
      {"GET", "0", MaxForwardsStep::kForward, "0"},
      {"OPTIONS", nullptr, MaxForwardsStep::kForward, nullptr},
      // Audit 19 F5: not one decimal number → refused (400), not forwarded.
      {"OPTIONS", "", MaxForwardsStep::kReject, ""},
      {"OPTIONS", "-1", MaxForwardsStep::kReject, "-1"},
      {"OPTIONS", "abc", MaxForwardsStep::kReject, "abc"},
      {"OPTIONS", "1 2", MaxForwardsStep::kReject, "1 2"},
      {"OPTIONS", "1, 1", MaxForwardsStep::kReject, "1, 1"},
      {"OPTIONS", "+3", MaxForwardsStep::kReject, "+3"},
      // Large values: the lesser of value - 1 and kMaxForwardsCap (2^32 - 1).
      {"OPTIONS", "4294967296", MaxForwardsStep::kForward, "4294967295"},
      {"OPTIONS", "4294967297", MaxForwardsStep::kForward, "4294967295"},
      {"OPTIONS", "99999999999", MaxForwardsStep::kForward, "4294967295"},
      {"OPTIONS", "99999999999999999999999", MaxForwardsStep::kForward, "4294967295"},
      {"OPTIONS", "0000000000000000000000007", MaxForwardsStep::kForward, "6"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.method) + " " + (c.value ? c.value : "(none)"));
    RequestHead head = MakeRequest();
    head.method = c.method;
    if (c.value) head.headers.Add("Max-Forwards", c.value);
    EXPECT_EQ(ApplyMaxForwards(head), c.step);
    const std::string* after = head.headers.Find("Max-Forwards");
    if (c.after == nullptr) {
      EXPECT_EQ(after, nullptr);
    } else {
      ASSERT_NE(after, nullptr);
      EXPECT_EQ(*after, c.after);
    }
  }
  // Two fields: ambiguous (audit 19 F5: they went through undecremented) →
  // refused, whatever the values.
  for (const char* second : {"3", "0", "1"}) {
    RequestHead head = MakeRequest();
    head.method = "OPTIONS";
    head.headers.Add("Max-Forwards", "1");
    head.headers.Add("Max-Forwards", second);
    EXPECT_EQ(ApplyMaxForwards(head), MaxForwardsStep::kReject) << second;
  }
}

TEST(ForwardingHeadersTest, IdempotentMethods) {
  EXPECT_TRUE(IsIdempotentMethod("GET"));
  EXPECT_TRUE(IsIdempotentMethod("HEAD"));
  EXPECT_TRUE(IsIdempotentMethod("PUT"));
  EXPECT_TRUE(IsIdempotentMethod("DELETE"));
  EXPECT_FALSE(IsIdempotentMethod("POST"));
  EXPECT_FALSE(IsIdempotentMethod("PATCH"));
}

}  // namespace
}  // namespace tidegate::proxy
