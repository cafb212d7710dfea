// A small configuration for the state and admin unit tests: one room
// ("shop": 500 active, 200/min, 5 min sessions), two features ("checkout",
// "search"), a configured banner and a signing key (an active room needs
// one, as in a configuration that loads).
#pragma once

#include <chrono>
#include <string>

#include "config/config.h"

namespace tidegate::state::testing {

inline config::Config TestStateConfig() {
  config::Config c;
  config::RoomConfig shop;
  shop.name = "shop";
  shop.match = {"^/"};
  shop.total_active_users = 500;
  shop.new_users_per_minute = 200;
  shop.session_duration = std::chrono::minutes(5);
  c.rooms.push_back(shop);
  c.secrets.token_keys = {{"k1", "", std::string(40, 'z')}};
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
  c.features = {checkout, search};
  c.banner.enabled = true;
  c.banner.message = "Free shipping this week";
  c.banner.severity = "info";
  return c;
}

}  // namespace tidegate::state::testing
