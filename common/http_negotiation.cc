#include "common/http_negotiation.h"

namespace tidegate::common {

bool WantsJson(std::string_view accept) {
  size_t json = accept.find("application/json");
  if (json == std::string_view::npos) return false;
  size_t html = accept.find("text/html");
  return html == std::string_view::npos || json < html;
}

bool WantsJson(const std::string* accept_header) {
  return accept_header != nullptr && WantsJson(std::string_view(*accept_header));
}

}  // namespace tidegate::common
