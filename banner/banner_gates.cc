#include "banner/banner_gates.h"

#include "common/ascii.h"
#include "proxy/path_normalizer.h"
#include "proxy/path_pattern.h"

namespace tidegate::banner {
namespace {

// "text/html; charset=utf-8" → "text/html".
std::string_view MediaType(std::string_view value) {
  return common::TrimOws(value.substr(0, value.find(';')));
}

}  // namespace

bool HasNoTransform(const proxy::HeaderList& headers) {
  for (const proxy::Header& h : headers.fields()) {
    if (proxy::EqualsIgnoreCase(h.name, "Cache-Control") &&
        proxy::HasToken(h.value, "no-transform")) {
      return true;
    }
  }
  return false;
}

std::string_view SkipReasonName(SkipReason reason) {
  switch (reason) {
    case SkipReason::kNone:
      return "none";
    case SkipReason::kMethod:
      return "method";
    case SkipReason::kRoute:
      return "route";
    case SkipReason::kStatus:
      return "status";
    case SkipReason::kNoBody:
      return "no_body";
    case SkipReason::kContentType:
      return "content_type";
    case SkipReason::kNoTransform:
      return "no_transform";
    case SkipReason::kAttachment:
      return "attachment";
    case SkipReason::kEncoding:
      return "encoding";
    case SkipReason::kHttp10Length:
      return "http10_length";
    case SkipReason::kNoBodyTag:
      return "no_body_tag";
    case SkipReason::kDecodeError:
      return "decode_error";
    case SkipReason::kCount:
      break;
  }
  return "unknown";
}

std::unique_ptr<BannerGates> BannerGates::Create(const config::BannerConfig& config,
                                                 std::string* error) {
  std::unique_ptr<BannerGates> gates(new BannerGates());
  gates->content_types_ = config.content_types;
  gates->recode_ = config.compressed != config::BannerCompressed::kIdentity;
  if (!config.match.empty()) {
    gates->match_ =
        std::make_unique<re2::RE2::Set>(proxy::PathPatternOptions(), re2::RE2::UNANCHORED);
    for (const std::string& pattern : config.match) {
      std::string problem;
      if (gates->match_->Add(pattern, &problem) < 0) {
        *error = "banner.match: \"" + pattern + "\": " + problem;
        return nullptr;
      }
    }
    if (!gates->match_->Compile()) {
      *error = "banner.match: out of memory compiling the patterns";
      return nullptr;
    }
  }
  return gates;
}

bool BannerGates::MatchesPath(std::string_view target) const {
  if (!match_) return true;
  std::string path = proxy::NormalizePath(target);
  return match_->Match(path, nullptr);
}

SkipReason BannerGates::CheckRequest(const proxy::RequestHead& head) const {
  if (head.method != "GET") return SkipReason::kMethod;
  if (!MatchesPath(head.target)) return SkipReason::kRoute;
  return SkipReason::kNone;
}

ResponseVerdict BannerGates::CheckResponse(const proxy::ResponseHead& head,
                                           bool client_http10) const {
  ResponseVerdict verdict;
  if (head.status != 200) return {SkipReason::kStatus};
  if (head.framing == proxy::BodyFraming::kNone) return {SkipReason::kNoBody};
  const std::string* type = head.headers.Find("Content-Type");
  bool type_ok = false;
  if (type != nullptr) {
    std::string_view media = MediaType(*type);
    for (const std::string& allowed : content_types_) {
      if (proxy::EqualsIgnoreCase(media, allowed)) {
        type_ok = true;
        break;
      }
    }
  }
  if (!type_ok) return {SkipReason::kContentType};
  if (HasNoTransform(head.headers)) return {SkipReason::kNoTransform};
  if (const std::string* cd = head.headers.Find("Content-Disposition")) {
    if (proxy::EqualsIgnoreCase(MediaType(*cd), "attachment")) return {SkipReason::kAttachment};
  }
  if (const std::string* ce = head.headers.Find("Content-Encoding")) {
    std::string_view coding = common::TrimOws(*ce);
    if (head.headers.Count("Content-Encoding") > 1) return {SkipReason::kEncoding};
    if (coding.empty() || proxy::EqualsIgnoreCase(coding, "identity")) {
      verdict.coding = BodyCoding::kIdentity;
    } else if (recode_ && (proxy::EqualsIgnoreCase(coding, "gzip") ||
                           proxy::EqualsIgnoreCase(coding, "x-gzip"))) {
      verdict.coding = BodyCoding::kGzip;
    } else if (recode_ && proxy::EqualsIgnoreCase(coding, "deflate")) {
      verdict.coding = BodyCoding::kDeflate;
    } else {
      return {SkipReason::kEncoding};
    }
  }
  // An identity page keeps a Content-Length (the banner filter holds the
  // head until it knows the new length); a recoded one is close-delimited
  // for an HTTP/1.0 client.
  if (client_http10 && head.framing == proxy::BodyFraming::kContentLength &&
      verdict.coding != BodyCoding::kIdentity) {
    return {SkipReason::kHttp10Length};
  }
  return verdict;
}

}  // namespace tidegate::banner
