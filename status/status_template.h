// The built-in template of the status page (Mustache). Merchants replace it
// with [site].templates_dir/status.html; the variables it receives are listed
// in docs/status-page.md.
#pragma once

#include <string_view>

namespace tidegate::status {

extern const std::string_view kBuiltinStatusTemplate;

}  // namespace tidegate::status
