// The banner's integration-test fixture and helpers, shared by
// banner_test.cc and banner_compress_test.cc: tidegate in front of the demo
// shop or a scripted origin, with a [banner] table; gzip helpers.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/demo_shop.h"
#include "tests/integration/harness/http_reader.h"
#include "tests/integration/harness/scripted_origin.h"
#include "tests/integration/harness/sha256_hex.h"
#include "tests/integration/harness/temp_dir.h"
#include "tests/integration/harness/tidegate_process.h"
#include "tests/support/inflate.h"

namespace tidegate::itest::banner_fixture {

constexpr char kOperatorToken[] = "banner-operator-token-0123456789abcdef01";
constexpr char kMarker[] = "data-tidegate-banner";

inline size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// gzip or zlib (auto-detected); *ok = a complete stream.
inline std::string Inflate(const std::string& data, bool* ok) {
  testing::Inflated result = testing::InflateAll(data, MAX_WBITS + 32);
  *ok = result.complete;
  return result.bytes;
}

// `data` as one gzip member.
inline std::string Gzip(const std::string& data) {
  z_stream s{};
  deflateInit2(&s, 6, Z_DEFLATED, MAX_WBITS + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&s, data.size()) + 64, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  deflate(&s, Z_FINISH);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

inline std::string Hex(size_t n) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%zx", n);
  return buf;
}

// The page with the banner removed: the banner is one <div …>…</div> right
// after the body tag.
inline std::string WithoutBanner(const std::string& page) {
  size_t start = page.find("<div class=\"tidegate-banner");
  if (start == std::string::npos) return page;
  size_t end = page.find("</div>", start);
  return page.substr(0, start) + page.substr(end + 6);
}

class BannerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (!tidegate_) return;
    EXPECT_TRUE(tidegate_->process().Running()) << "tidegate died:\n" << tidegate_->Stderr();
    EXPECT_EQ(tidegate_->Stop(std::chrono::seconds(10)), 0) << tidegate_->Stderr();
  }

  // tidegate in front of `origin_port` with `banner` as the [banner] table body.
  void StartProxy(uint16_t origin_port, const std::string& banner) {
    std::string config =
        "[server]\nlisten = [\"127.0.0.1:${PORT}\"]\nworkers = 1\ndrain_timeout = \"5s\"\n"
        "\n[upstream]\nservers = [\"127.0.0.1:" +
        std::to_string(origin_port) +
        "\"]\nconnect_timeout = \"1s\"\nresponse_timeout = \"5s\"\nread_timeout = \"5s\"\n"
        "\n[admin]\nlisten = \"127.0.0.1:${ADMIN_PORT}\"\n"
        "audit_log = \"${DIR}/audit.jsonl\"\n"
        "tokens = [{ name = \"ops\", token_sha256 = \"" +
        Sha256Hex(kOperatorToken) + "\", role = \"operator\" }]\n\n[banner]\n" + banner;
    TidegateOptions options;
    options.config = config;
    tidegate_ = StartTidegateOrFail(dir_, options);
  }
  void StartWithShop(const std::string& banner) {
    shop_ = StartDemoShopOrFail(dir_);
    if (shop_) StartProxy(shop_->port(), banner);
  }
  void StartWithOrigin(ScriptedOrigin::Script script, const std::string& banner) {
    origin_ = std::make_unique<ScriptedOrigin>(std::move(script));
    StartProxy(origin_->port(), banner);
  }
  bool Started() const { return tidegate_ != nullptr; }

  HttpMessage Send(uint16_t port, const std::string& request, bool head = false) {
    auto conn = ConnectOrFail(port);
    if (!conn) return FailedMessage("no connection");
    EXPECT_TRUE(conn->Send(request));
    ReadOptions options;
    options.head_request = head;
    return ReadResponse(*conn, options);
  }
  static std::string Request(const std::string& target, const std::string& extra = "",
                             const std::string& method = "GET", int minor = 1) {
    return method + " " + target + " HTTP/1." + std::to_string(minor) +
           "\r\nHost: shop.test\r\nConnection: close\r\n" + extra + "\r\n";
  }
  // Through tidegate, and straight from the shop for comparison.
  HttpMessage Proxy(const std::string& target, const std::string& extra = "",
                    const std::string& method = "GET", int minor = 1) {
    return Send(tidegate_->port(), Request(target, extra, method, minor), method == "HEAD");
  }
  HttpMessage Direct(const std::string& target, const std::string& extra = "",
                     const std::string& method = "GET") {
    return Send(shop_->port(), Request(target, extra, method), method == "HEAD");
  }

  int Admin(const std::string& method, const std::string& body = "") {
    std::string request = method +
                          " /v1/banner HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                          kOperatorToken + "\r\nConnection: close\r\n";
    if (method == "PUT") {
      request +=
          "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\n";
    }
    HttpMessage r = Send(tidegate_->admin_port(), request + "\r\n" + body);
    EXPECT_TRUE(r.ok) << r.error;
    return r.status;
  }

  TempDir dir_;
  std::unique_ptr<DemoShop> shop_;
  std::unique_ptr<ScriptedOrigin> origin_;
  std::unique_ptr<TidegateProcess> tidegate_;
};

constexpr char kOn[] = "enabled = true\nmessage = \"High demand. Orders are safe.\"\n";

}  // namespace tidegate::itest::banner_fixture
