// The banner's gates: which requests and responses may receive it. Checked
// first and cheaply, on header fields only; a response that fails a gate is
// passed on byte for byte (its head is not touched either).
//
// Contract: BannerGates is built once per configuration snapshot (Create,
// control thread) and then immutable: its const methods are thread-safe and
// allocate nothing except on the path match (RE2 on the normalized path).
#pragma once

#include <re2/set.h>

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.h"
#include "proxy/http_message.h"

namespace tidegate::banner {

// Why a response did not receive the banner (while a banner was in force).
// The names are the `reason` label of banner_skips_total.
enum class SkipReason {
  kNone,
  kMethod,        // not GET (HEAD: the head must stay byte-identical too)
  kRoute,         // path not matched by [banner].match
  kStatus,        // not 200 (204, 206, 304, errors, redirects…)
  kNoBody,        // a 200 without a body
  kContentType,   // not in [banner].content_types
  kNoTransform,   // Cache-Control: no-transform
  kAttachment,    // Content-Disposition: attachment
  kEncoding,      // br, zstd, several codings, or compressed in identity mode
  kHttp10Length,  // HTTP/1.0 client, a recoded Content-Length page (truncation must stay visible)
  kNoBodyTag,     // no <body> within the window
  kDecodeError,   // a gzip/deflate body that does not decode
  kCount,
};
std::string_view SkipReasonName(SkipReason reason);
inline constexpr size_t kSkipReasonCount = static_cast<size_t>(SkipReason::kCount);

enum class BodyCoding { kIdentity, kGzip, kDeflate };

// True when a Cache-Control field of `headers` has `no-transform`.
bool HasNoTransform(const proxy::HeaderList& headers);

struct ResponseVerdict {
  SkipReason skip = SkipReason::kNone;
  BodyCoding coding = BodyCoding::kIdentity;
};

class BannerGates {
 public:
  // nullptr and *error set when a pattern does not compile (the loader has
  // checked them already, so this is a programming error).
  static std::unique_ptr<BannerGates> Create(const config::BannerConfig& config,
                                             std::string* error);

  // Request side: method GET, path matched (empty match list = every path).
  SkipReason CheckRequest(const proxy::RequestHead& head) const;
  // Response side, in gate order: status, body, type, no-transform,
  // attachment, encoding (gzip/deflate only in recode mode), HTTP/1.0 with
  // a Content-Length.
  ResponseVerdict CheckResponse(const proxy::ResponseHead& head, bool client_http10) const;

  bool MatchesPath(std::string_view target) const;

 private:
  BannerGates() = default;
  std::unique_ptr<re2::RE2::Set> match_;  // null = every path
  std::vector<std::string> content_types_;
  bool recode_ = true;
};

}  // namespace tidegate::banner
