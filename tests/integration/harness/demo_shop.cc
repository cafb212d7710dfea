#include "tests/integration/harness/demo_shop.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <thread>

namespace tidegate::itest {

std::unique_ptr<DemoShop> DemoShop::Start(const TempDir& dir, std::string* error,
                                          const std::vector<std::string>& extra_args) {
  std::unique_ptr<DemoShop> shop(new DemoShop());
  ProcessOptions po;
  po.argv = {DEMO_SHOP_BINARY, "--listen", "127.0.0.1:0"};
  po.argv.insert(po.argv.end(), extra_args.begin(), extra_args.end());
  po.log_dir = dir.path();
  po.name = "demo_shop";
  shop->process_ = Process::Start(po, error);
  if (!shop->process_) return nullptr;
  const std::string prefix = "demo_shop listening on 127.0.0.1:";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  for (;;) {
    std::string out = shop->process_->Stdout();
    size_t pos = out.find(prefix);
    if (pos != std::string::npos && out.find('\n', pos) != std::string::npos) {
      shop->port_ = static_cast<uint16_t>(std::atoi(out.c_str() + pos + prefix.size()));
      if (shop->port_ != 0) return shop;
      *error = "cannot parse the port from: " + out;
      return nullptr;
    }
    if (!shop->process_->Running()) {
      *error = "demo_shop exited early; stderr:\n" + shop->process_->Stderr();
      return nullptr;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      *error = "demo_shop printed no listening line; stdout: " + out;
      return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::unique_ptr<DemoShop> StartDemoShopOrFail(const TempDir& dir,
                                              const std::vector<std::string>& extra_args) {
  std::string error;
  auto shop = DemoShop::Start(dir, &error, extra_args);
  if (!shop) ADD_FAILURE() << "cannot start demo_shop: " << error;
  return shop;
}

}  // namespace tidegate::itest
