// The one place where the request filter chain is assembled, in order.
// Later features (maintenance gate, waiting room, banner) are added here;
// proxy/ never depends on them.
#pragma once

#include <chrono>

#include "admin/runtime_state.h"
#include "proxy/published.h"
#include "proxy/snapshot.h"

namespace tidegate::app {

class TidegateFilterChain : public proxy::FilterChainBuilder {
 public:
  // `runtime_state` (operators' switches) must outlive every snapshot.
  TidegateFilterChain(std::chrono::steady_clock::time_point started,
                      const proxy::Published<admin::RuntimeState>* runtime_state);
  bool Build(const config::Config& config, int workers, proxy::FilterChain* chain,
             std::string* error) const override;

 private:
  std::chrono::steady_clock::time_point started_;
  const proxy::Published<admin::RuntimeState>* runtime_state_;
};

}  // namespace tidegate::app
