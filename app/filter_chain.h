// The one place where the request filter chain is assembled, in order.
// Later features (maintenance gate, waiting room, banner) are added here;
// proxy/ never depends on them.
#pragma once

#include <chrono>

#include "proxy/snapshot.h"

namespace tidegate::app {

class TidegateFilterChain : public proxy::FilterChainBuilder {
 public:
  explicit TidegateFilterChain(std::chrono::steady_clock::time_point started);
  bool Build(const config::Config& config, int workers, proxy::FilterChain* chain,
             std::string* error) const override;

 private:
  std::chrono::steady_clock::time_point started_;
};

}  // namespace tidegate::app
