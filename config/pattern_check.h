// Internal to config/: RE2 compile checks at load time.
#pragma once

#include <string>

namespace tidegate::config {

// "" when `pattern` compiles with RE2 (default options), else RE2's reason.
std::string CheckPattern(const std::string& pattern);

}  // namespace tidegate::config
