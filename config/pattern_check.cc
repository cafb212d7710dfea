#include "config/pattern_check.h"

#include <re2/re2.h>

namespace tidegate::config {

std::string CheckPattern(const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);  // the error goes into the config report instead
  RE2 re(pattern, options);
  if (re.ok()) return "";
  return "invalid regular expression \"" + pattern + "\": " + re.error();
}

}  // namespace tidegate::config
