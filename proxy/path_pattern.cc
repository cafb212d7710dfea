#include "proxy/path_pattern.h"

namespace tidegate::proxy {

RE2::Options PathPatternOptions() {
  RE2::Options options;
  options.set_case_sensitive(false);  // path policy: /Checkout is /checkout
  options.set_log_errors(false);      // config validation reports bad patterns
  return options;
}

}  // namespace tidegate::proxy
