#include "common/query_string.h"

#include "common/hex.h"

namespace tidegate::common {

std::string_view QueryOf(std::string_view target) {
  target = target.substr(0, target.find('#'));
  size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  return target.substr(q + 1);
}

std::optional<std::string_view> QueryParam(std::string_view query, std::string_view name) {
  std::optional<std::string_view> found;
  ForEachQueryParam(query, [&](std::string_view key, std::string_view value) {
    if (key == name) found = value;
    return found.has_value();
  });
  return found;
}

void FormDecode(std::string_view text, std::string* out) {
  out->clear();
  out->reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out->push_back(' ');
    } else if (c == '%' && i + 2 < text.size() && common::HexDigitValue(text[i + 1]) >= 0 &&
               common::HexDigitValue(text[i + 2]) >= 0) {
      out->push_back(static_cast<char>(common::HexDigitValue(text[i + 1]) * 16 +
                                       common::HexDigitValue(text[i + 2])));
      i += 2;
    } else {
      out->push_back(c);
    }
  }
}

}  // namespace tidegate::common
