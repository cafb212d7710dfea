// Starts the bundled demo_shop origin on 127.0.0.1:0 for one test.
//
// Contract: Start() runs `demo_shop --listen 127.0.0.1:0` (plus
// `extra_args`, e.g. {"--capacity", "4", "--service-time", "50ms"}), waits (up to
// 15 s) for its stdout line "demo_shop listening on 127.0.0.1:PORT" and
// returns with port() set; nullptr + *error otherwise. The destructor kills
// and reaps it. Test thread only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/integration/harness/process.h"
#include "tests/integration/harness/temp_dir.h"

namespace tidegate::itest {

class DemoShop {
 public:
  static std::unique_ptr<DemoShop> Start(const TempDir& dir, std::string* error,
                                         const std::vector<std::string>& extra_args = {});
  uint16_t port() const { return port_; }
  Process& process() { return *process_; }

 private:
  DemoShop() = default;
  std::unique_ptr<Process> process_;
  uint16_t port_ = 0;
};

// Starts the demo shop or records a gtest failure and returns nullptr.
std::unique_ptr<DemoShop> StartDemoShopOrFail(const TempDir& dir,
                                              const std::vector<std::string>& extra_args = {});

}  // namespace tidegate::itest
