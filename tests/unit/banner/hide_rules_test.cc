// banner/hide_rules: the <style> of [features.NAME] action = "hide", by the
// same precedence as the maintenance gate (operator, window, reopened).
#include "banner/hide_rules.h"

#include <gtest/gtest.h>

namespace tidegate::banner {
namespace {

using std::chrono::hours;
const common::TimePoint kNow = common::TimePoint(std::chrono::seconds(1'795'000'000));

config::FeatureConfig Hide(std::string name, std::string selector) {
  config::FeatureConfig f;
  f.name = std::move(name);
  f.action = config::FeatureAction::kHide;
  f.hide_selector = std::move(selector);
  return f;
}

TEST(HideRulesTest, OnlyHideFeaturesUnderMaintenance) {
  config::FeatureConfig block;
  block.name = "checkout";
  std::vector<config::FeatureConfig> features = {Hide("invoice", "#pay-invoice"),
                                                 Hide("paypal", ".paypal"), block};
  HideRules rules(features);
  state::RuntimeState state;
  EXPECT_EQ(rules.Render(state, kNow, nullptr), "");
  state.maintenance["invoice"].message = "x";
  state.maintenance["checkout"].message = "x";  // not a hide feature
  EXPECT_EQ(rules.Render(state, kNow, nullptr),
            "<style id=\"tidegate-hide\">#pay-invoice{display:none!important}</style>");
  state.maintenance["paypal"].message = "x";
  EXPECT_EQ(rules.Render(state, kNow, nullptr),
            "<style id=\"tidegate-hide\">#pay-invoice{display:none!important}"
            ".paypal{display:none!important}</style>");
}

TEST(HideRulesTest, ConfiguredWindowReopenedAndNextChange) {
  config::FeatureConfig f = Hide("invoice", "#pay-invoice");
  f.maintenance = config::ConfigMaintenanceWindow{"", kNow + hours(1), kNow + hours(3)};
  HideRules rules({f});
  state::RuntimeState state;
  std::optional<common::TimePoint> next;
  EXPECT_EQ(rules.Render(state, kNow, &next), "");
  EXPECT_EQ(next, kNow + hours(1));
  next.reset();
  EXPECT_NE(rules.Render(state, kNow + hours(2), &next), "");
  EXPECT_EQ(next, kNow + hours(3));
  state::MaintenanceOverride reopened;
  reopened.reopened = true;
  reopened.until = kNow + hours(3);
  state.maintenance["invoice"] = reopened;
  EXPECT_EQ(rules.Render(state, kNow + hours(2), nullptr), "");
  f.enabled = false;
  state.maintenance.clear();
  EXPECT_EQ(HideRules({f}).Render(state, kNow + hours(2), nullptr), "");
}

}  // namespace
}  // namespace tidegate::banner
