#include "banner/accept_encoding.h"

#include "common/ascii.h"
#include "common/http_negotiation.h"

namespace tidegate::banner {

int GzipInAcceptEncoding(std::string_view value, int* star) {
  int gzip = -1;
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    size_t semi = item.find(';');
    std::string_view coding = common::TrimOws(item.substr(0, semi));
    bool above_zero =
        semi == std::string_view::npos || common::QualityAboveZero(item.substr(semi + 1));
    if (common::EqualsIgnoreCase(coding, "gzip") || common::EqualsIgnoreCase(coding, "x-gzip")) {
      // A client that lists gzip twice is taken at its most generous word.
      if (gzip != 1) gzip = above_zero ? 1 : 0;
    } else if (coding == "*") {
      if (*star != 1) *star = above_zero ? 1 : 0;
    }
  }
  return gzip;
}

bool AcceptsGzip(const proxy::HeaderList& request_headers) {
  int gzip = -1;
  int star = -1;
  for (const proxy::Header& h : request_headers.fields()) {
    if (!proxy::EqualsIgnoreCase(h.name, "Accept-Encoding")) continue;
    int field = GzipInAcceptEncoding(h.value, &star);
    if (field == 1 || (field == 0 && gzip == -1)) gzip = field;
  }
  if (gzip != -1) return gzip == 1;
  return star == 1;
}

}  // namespace tidegate::banner
