#include "common/http_negotiation.h"

#include "common/ascii.h"

namespace tidegate::common {

int Quality(std::string_view params) {
  while (!params.empty()) {
    size_t semi = params.find(';');
    std::string_view param = TrimOws(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    size_t eq = param.find('=');
    if (eq == std::string_view::npos) continue;
    if (!EqualsIgnoreCase(TrimOws(param.substr(0, eq)), "q")) continue;
    // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ); anything
    // else is read leniently: its digits, at most three decimals, capped.
    std::string_view q = TrimOws(param.substr(eq + 1));
    if (q.empty() || q[0] < '0' || q[0] > '9') return 1000;
    int value = (q[0] - '0') * 1000;
    int scale = 100;
    if (q.size() > 1 && q[1] == '.') {
      for (char c : q.substr(2)) {
        if (c < '0' || c > '9' || scale == 0) break;
        value += (c - '0') * scale;
        scale /= 10;
      }
    }
    return value > 1000 ? 1000 : value;
  }
  return 1000;
}

bool QualityAboveZero(std::string_view params) { return Quality(params) > 0; }

bool WantsJson(std::string_view accept) {
  // The q-values of the two media types the list names (case-insensitively,
  // RFC 9110 §8.3.1; the first mention of each counts): JSON when its q is
  // higher than HTML's, or equal and listed first; never when refused (q=0).
  int json_q = -1, html_q = -1;
  bool json_first = false;
  while (!accept.empty()) {
    size_t comma = accept.find(',');
    std::string_view range = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    size_t semi = range.find(';');
    std::string_view type = TrimOws(range.substr(0, semi));
    bool json = EqualsIgnoreCase(type, "application/json");
    if (!json && !EqualsIgnoreCase(type, "text/html")) continue;
    int q = semi == std::string_view::npos ? 1000 : Quality(range.substr(semi + 1));
    int& slot = json ? json_q : html_q;
    if (slot >= 0) continue;
    slot = q;
    if (json && html_q < 0) json_first = true;
  }
  if (json_q <= 0) return false;
  return json_q > html_q || (json_q == html_q && json_first);
}

bool WantsJson(const std::string* accept_header) {
  return accept_header != nullptr && WantsJson(std::string_view(*accept_header));
}

}  // namespace tidegate::common
