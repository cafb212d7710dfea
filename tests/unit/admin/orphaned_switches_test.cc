#include "admin/orphaned_switches.h"

#include <gtest/gtest.h>

namespace tidegate::admin {
namespace {

using std::chrono::hours;

// Which run-time switches a configuration would orphan (audit 20 F2): only
// the ones somebody is told hold — a feature switched off (active or
// scheduled), a room switched on — whose table is gone.
TEST(OrphanedSwitchesTest, NamesOnlySwitchesShownAsInForceWhoseTableIsGone) {
  config::Config config;
  config::FeatureConfig kept;
  kept.name = "cart";
  config.features.push_back(kept);
  config::RoomConfig room;
  room.name = "shop";
  config.rooms.push_back(room);

  common::TimePoint now = common::Clock::now();
  state::RuntimeState state;
  state.maintenance["cart"].message = "configured: not orphaned";
  state.maintenance["checkout"].message = "off by hand";
  state.maintenance["payments"].message = "off by an incident";
  state.maintenance["payments"].incident_id = "inc-3";
  state.maintenance["later"].starts_at = now + hours(1);   // scheduled: still announced
  state.maintenance["over"].until = now - hours(1);        // expired: applies to nobody
  state.maintenance["reopened"].reopened = true;           // opens what is gone anyway
  state.rooms["shop"].mode = config::RoomMode::kQueueAll;  // configured
  state.rooms["sale"].mode = config::RoomMode::kAuto;
  state.rooms["sale"].mode_incident_id = "inc-4";
  state.rooms["quiet"].mode = config::RoomMode::kOff;
  state.rooms["limits"].total_active_users = 10;  // no mode: nobody is told it queues

  std::vector<OrphanedSwitch> orphaned = SwitchesOrphanedBy(config, state, now);
  ASSERT_EQ(orphaned.size(), 4u);
  EXPECT_EQ(orphaned[0].name, "checkout");
  EXPECT_EQ(orphaned[1].name, "later");
  EXPECT_EQ(orphaned[2].name, "payments");
  EXPECT_EQ(orphaned[2].incident_id, "inc-3");
  EXPECT_EQ(orphaned[3].kind, OrphanedSwitch::Kind::kRoomOn);
  EXPECT_EQ(orphaned[3].name, "sale");

  EXPECT_EQ(DescribeOrphanedSwitch(orphaned[0]),
            "feature 'checkout' is switched off at run time (by hand), and the new configuration "
            "has no [features.checkout]: the switch would stop applying while it is shown as in "
            "force; clear it first (tidegate ctl maintenance off checkout) or keep the feature");
  EXPECT_NE(DescribeOrphanedSwitch(orphaned[3]).find("(by incident inc-4)"), std::string::npos);
  EXPECT_NE(DescribeOrphanedSwitch(orphaned[3]).find("resolve incident inc-4"), std::string::npos);
  EXPECT_NE(DescribeOrphanedSwitch(orphaned[3]).find("[rooms.sale]"), std::string::npos);

  config::FeatureConfig checkout;
  checkout.name = "checkout";
  config.features.push_back(checkout);
  EXPECT_EQ(SwitchesOrphanedBy(config, state, now).size(), 3u);
}

}  // namespace
}  // namespace tidegate::admin
