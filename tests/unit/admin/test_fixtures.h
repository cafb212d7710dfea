// Shared fixtures of the admin unit tests: a small configuration with two
// features, one room, a viewer and an operator token.
#pragma once

#include <memory>

#include "admin/auth.h"
#include "config/config.h"

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
  auto c = std::make_shared<config::Config>();
  c->admin = TestAdminConfig();
  config::RoomConfig shop;
  shop.name = "shop";
  shop.match = {"^/"};
  shop.total_active_users = 500;
  shop.new_users_per_minute = 200;
  shop.session_duration = std::chrono::minutes(5);
  c->rooms.push_back(shop);
  config::FeatureConfig checkout;
  checkout.name = "checkout";
  config::FeatureMatchRule checkout_rule;
  checkout_rule.path = "^/checkout";
  checkout.match.push_back(checkout_rule);
  config::FeatureConfig search;
  search.name = "search";
  config::FeatureMatchRule search_rule;
  search_rule.path = "^/search";
  search.match.push_back(search_rule);
  c->features = {checkout, search};
  c->banner.enabled = true;
  c->banner.message = "Free shipping this week";
  c->banner.severity = "info";
  return c;
}

}  // namespace tidegate::admin::testing
