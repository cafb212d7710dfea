// Test helper: the head of one complete HTTP/1.1 response, as the proxy's
// parser (Http1Parser) hands it over. Expects every byte to be taken.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "proxy/http1_codec.h"

namespace tidegate::proxy {

inline ResponseHead ParseResponseHead(const std::string& in) {
  struct Collect : Http1Parser::Callbacks {
    void OnRequestHead(RequestHead&&) override {}
    void OnResponseHead(ResponseHead&& h) override { response = std::move(h); }
    void OnBody(const char*, size_t) override {}
    void OnMessageComplete() override {}
    ResponseHead response;
  } c;
  Http1Parser parser(Http1Parser::Kind::kResponse, ParseLimits{}, &c);
  EXPECT_EQ(parser.Execute(in.data(), in.size()), in.size());
  return std::move(c.response);
}

}  // namespace tidegate::proxy
