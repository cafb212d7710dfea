#include "common/http_negotiation.h"

#include "common/ascii.h"

namespace tidegate::common {
namespace {

// True when a media range's parameters (after its first ';') hold q=0
// (RFC 9110 §12.4.2: "not acceptable"): "q=0", "q=0.", "q=0.000".
bool RefusedByQ(std::string_view params) {
  while (!params.empty()) {
    size_t semi = params.find(';');
    std::string_view param = TrimOws(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    if (param.size() < 2 || AsciiLower(param[0]) != 'q' || param[1] != '=') continue;
    std::string_view value = TrimOws(param.substr(2));
    if (value.empty() || value[0] != '0') return false;
    for (char c : value.substr(1)) {
      if (c != '.' && c != '0') return false;
    }
    return true;
  }
  return false;
}

}  // namespace

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
    if (semi != std::string_view::npos && RefusedByQ(range.substr(semi + 1))) continue;
    return json;
  }
  return false;
}

bool WantsJson(const std::string* accept_header) {
  return accept_header != nullptr && WantsJson(std::string_view(*accept_header));
}

}  // namespace tidegate::common
