#include "banner/gzip_response.h"

#include <string>
#include <vector>

#include "banner/banner_gates.h"
#include "banner/rewritten_head.h"
#include "common/ascii.h"

namespace tidegate::banner {
namespace {

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && common::EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

bool EndsWithIgnoreCase(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         common::EqualsIgnoreCase(s.substr(s.size() - suffix.size()), suffix);
}

bool NameIs(const std::string& name, std::string_view expected) {
  return proxy::EqualsIgnoreCase(name, expected);
}

}  // namespace

bool IsCompressibleType(std::string_view content_type) {
  std::string_view media = common::TrimOws(content_type.substr(0, content_type.find(';')));
  if (StartsWithIgnoreCase(media, "text/")) {
    return !common::EqualsIgnoreCase(media, "text/event-stream");
  }
  for (std::string_view type :
       {"application/json", "application/javascript", "application/x-javascript",
        "application/ecmascript", "application/xml"}) {
    if (common::EqualsIgnoreCase(media, type)) return true;
  }
  size_t slash = media.find('/');
  return slash != std::string_view::npos && slash > 0 &&
         (EndsWithIgnoreCase(media, "+json") || EndsWithIgnoreCase(media, "+xml"));
}

GzipPlan PlanGzip(const proxy::ResponseHead& head, bool client_http10) {
  if (head.status != 200 && (head.status < 400 || head.status > 599)) return GzipPlan::kNone;
  if (head.framing == proxy::BodyFraming::kNone) return GzipPlan::kNone;
  if (head.framing == proxy::BodyFraming::kContentLength && head.content_length < kGzipMinBytes) {
    return GzipPlan::kNone;
  }
  const std::string* type = head.headers.Find("Content-Type");
  if (type == nullptr || !IsCompressibleType(*type)) return GzipPlan::kNone;
  for (const proxy::Header& h : head.headers.fields()) {
    if (NameIs(h.name, "Content-Encoding")) {
      std::string_view coding = common::TrimOws(h.value);
      if (!coding.empty() && !common::EqualsIgnoreCase(coding, "identity")) return GzipPlan::kNone;
    } else if (NameIs(h.name, "Content-Range")) {
      return GzipPlan::kNone;
    }
  }
  if (HasNoTransform(head.headers)) return GzipPlan::kNone;
  if (head.framing != proxy::BodyFraming::kContentLength) return GzipPlan::kStream;
  if (head.content_length <= kGzipWholeBytes) return GzipPlan::kWhole;
  return client_http10 ? GzipPlan::kNone : GzipPlan::kStream;
}

void MarkGzipped(proxy::HeaderList& headers) {
  // (an identity Content-Encoding is replaced)
  FixRewrittenHead(headers, "Accept-Encoding", {"Content-Encoding"});
  headers.Add("Content-Encoding", "gzip");
}

}  // namespace tidegate::banner
