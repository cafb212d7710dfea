#include "common/query_string.h"

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

}  // namespace tidegate::common
