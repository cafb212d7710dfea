// Shared fixtures of the admin unit tests: the state tests' configuration
// (tests/unit/state/test_config.h) with a viewer and an operator token.
#pragma once

#include <memory>

#include "admin/auth.h"
#include "config/config.h"
#include "tests/unit/state/test_config.h"

namespace tidegate::admin::testing {

inline constexpr char kOperatorToken[] = "operator-token-0123456789abcdef0123456789";
inline constexpr char kViewerToken[] = "viewer-token-0123456789abcdef0123456789ab";

inline config::AdminConfig TestAdminConfig() {
  config::AdminConfig admin;
  admin.listen.host = "127.0.0.1";
  admin.listen.port = 0;
  admin.listen.text = "127.0.0.1:0";
  admin.tokens.push_back({"ops", Sha256Hex(kOperatorToken), config::AdminRole::kOperator});
  admin.tokens.push_back({"watcher", Sha256Hex(kViewerToken), config::AdminRole::kViewer});
  return admin;
}

inline std::shared_ptr<const config::Config> TestConfig() {
  auto c = std::make_shared<config::Config>(state::testing::TestStateConfig());
  c->admin = TestAdminConfig();
  return c;
}

}  // namespace tidegate::admin::testing
