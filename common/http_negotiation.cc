#include "common/http_negotiation.h"

#include "common/ascii.h"

namespace tidegate::common {

bool QualityAboveZero(std::string_view params) {
  while (!params.empty()) {
    size_t semi = params.find(';');
    std::string_view param = TrimOws(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    size_t eq = param.find('=');
    if (eq == std::string_view::npos) continue;
    if (!EqualsIgnoreCase(TrimOws(param.substr(0, eq)), "q")) continue;
    std::string_view q = TrimOws(param.substr(eq + 1));
    if (q.empty() || q[0] != '0') return true;
    for (char c : q.substr(1)) {
      if (c != '.' && c != '0') return true;
    }
    return false;
  }
  return true;
}

bool WantsJson(std::string_view accept) {
  // The first of the two media types the list names (case-insensitively,
  // RFC 9110 §8.3.1), skipping ranges refused with q=0.
  while (!accept.empty()) {
    size_t comma = accept.find(',');
    std::string_view range = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    size_t semi = range.find(';');
    std::string_view type = TrimOws(range.substr(0, semi));
    bool json = EqualsIgnoreCase(type, "application/json");
    if (!json && !EqualsIgnoreCase(type, "text/html")) continue;
    if (semi != std::string_view::npos && !QualityAboveZero(range.substr(semi + 1))) continue;
    return json;
  }
  return false;
}

bool WantsJson(const std::string* accept_header) {
  return accept_header != nullptr && WantsJson(std::string_view(*accept_header));
}

}  // namespace tidegate::common
