// The incident lifecycle as state changes (state/incident_changes.h): one
// version per change, what opening applies, what resolving removes (only
// what the incident still owns), the banner and room mode it replaced put
// back, and the history pruned by status_history_days.
#include "state/incident_changes.h"

#include <gtest/gtest.h>

#include "common/rfc3339.h"
#include "state/runtime_state.h"

namespace tidegate::state {
namespace {

common::TimePoint T(const char* text) { return common::ParseRfc3339(text).value(); }

const common::TimePoint kOpenAt = T("2026-12-05T14:00:00Z");

OpenIncident PaymentsDown() {
  OpenIncident o;
  o.title = "Card payments failing";
  o.impact = IncidentImpact::kPartialOutage;
  o.message = "Our payment provider is failing; checkout is paused.";
  o.next_update_at = T("2026-12-05T14:30:00Z");
  o.features = {"checkout", "search"};
  o.maintenance = {"checkout"};
  o.banner = true;
  o.room = OpenIncident::Room{"shop", config::RoomMode::kQueueAll};
  return o;
}

RuntimeState Apply(const RuntimeState& s, const StateChange& c, common::TimePoint now,
                   const std::string& actor = "ops") {
  bool changed = false;
  RuntimeState next = ApplyChange(s, c, actor, now, &changed);
  EXPECT_TRUE(changed);
  return next;
}

std::string OnlyId(const RuntimeState& s) {
  EXPECT_EQ(s.incidents.size(), 1u);
  return s.incidents.empty() ? "" : s.incidents[0].id;
}

TEST(IncidentChangesTest, OpeningAppliesEverythingInOneVersion) {
  RuntimeState s = Apply(RuntimeState{}, PaymentsDown(), kOpenAt);
  EXPECT_EQ(s.version, 1u);
  std::string id = OnlyId(s);
  EXPECT_EQ(id, "20261205-1");
  const Incident& i = s.incidents[0];
  EXPECT_TRUE(i.open());
  EXPECT_EQ(i.status, IncidentStatus::kInvestigating);
  ASSERT_EQ(i.updates.size(), 1u);
  EXPECT_EQ(i.updates[0].message, "Our payment provider is failing; checkout is paused.");
  EXPECT_EQ(i.updates[0].by, "ops");
  EXPECT_EQ(i.next_update_at(), T("2026-12-05T14:30:00Z"));
  EXPECT_EQ(i.applied.maintenance, std::vector<std::string>{"checkout"});
  EXPECT_TRUE(i.applied.banner);
  EXPECT_EQ(i.applied.room, "shop");

  ASSERT_EQ(s.maintenance.count("checkout"), 1u);
  EXPECT_EQ(s.maintenance.at("checkout").incident_id, id);
  EXPECT_EQ(s.maintenance.count("search"), 0u);  // a component, not switched off
  ASSERT_TRUE(s.banner);
  EXPECT_EQ(s.banner->incident_id, id);
  EXPECT_EQ(s.banner->severity, "warning");
  EXPECT_EQ(s.banner->next_update_at, T("2026-12-05T14:30:00Z"));
  EXPECT_EQ(s.rooms.at("shop").mode, config::RoomMode::kQueueAll);
  EXPECT_EQ(s.rooms.at("shop").mode_incident_id, id);
}

TEST(IncidentChangesTest, UpdatesExtendTheTimelineAndTheBannerFollows) {
  RuntimeState s = Apply(RuntimeState{}, PaymentsDown(), kOpenAt);
  std::string id = OnlyId(s);
  UpdateIncident u{id, IncidentStatus::kIdentified, "The provider found the fault.",
                   T("2026-12-05T15:00:00Z")};
  s = Apply(s, u, T("2026-12-05T14:25:00Z"), "alice");
  EXPECT_EQ(s.version, 2u);
  const Incident& i = s.incidents[0];
  ASSERT_EQ(i.updates.size(), 2u);
  EXPECT_EQ(i.status, IncidentStatus::kIdentified);
  EXPECT_EQ(i.latest().by, "alice");
  EXPECT_EQ(i.next_update_at(), T("2026-12-05T15:00:00Z"));
  EXPECT_FALSE(i.update_overdue(T("2026-12-05T14:59:59Z")));
  EXPECT_TRUE(i.update_overdue(T("2026-12-05T15:00:01Z")));
  EXPECT_EQ(s.banner->message, "The provider found the fault.");
  EXPECT_EQ(s.banner->next_update_at, T("2026-12-05T15:00:00Z"));
  EXPECT_EQ(s.maintenance.at("checkout").message, "The provider found the fault.");

  // Status left out: unchanged.
  s = Apply(s, UpdateIncident{id, std::nullopt, "Still on it."}, T("2026-12-05T14:50:00Z"));
  EXPECT_EQ(s.incidents[0].status, IncidentStatus::kIdentified);
  EXPECT_FALSE(s.incidents[0].next_update_at());  // no promise this time
}

TEST(IncidentChangesTest, ResolveRemovesExactlyWhatItApplied) {
  RuntimeState s = Apply(RuntimeState{}, PaymentsDown(), kOpenAt);
  std::string id = OnlyId(s);
  s = Apply(s, ResolveIncident{id, "Payments work again. Sorry for the trouble."},
            T("2026-12-05T16:00:00Z"));
  EXPECT_EQ(s.version, 2u);
  const Incident& i = s.incidents[0];
  EXPECT_FALSE(i.open());
  EXPECT_EQ(i.status, IncidentStatus::kResolved);
  EXPECT_EQ(i.resolved_at, T("2026-12-05T16:00:00Z"));
  EXPECT_EQ(i.latest().message, "Payments work again. Sorry for the trouble.");
  EXPECT_EQ(i.latest().status, IncidentStatus::kResolved);
  EXPECT_FALSE(i.next_update_at());
  EXPECT_TRUE(s.maintenance.empty());
  EXPECT_FALSE(s.banner);
  EXPECT_TRUE(s.rooms.empty());
  EXPECT_EQ(i.applied.maintenance, std::vector<std::string>{"checkout"});  // history

  // Updating or resolving it again changes nothing.
  bool changed = true;
  ApplyChange(s, UpdateIncident{id, std::nullopt, "again"}, "ops", kOpenAt, &changed);
  EXPECT_FALSE(changed);
  ApplyChange(s, ResolveIncident{id, "again"}, "ops", kOpenAt, &changed);
  EXPECT_FALSE(changed);
  ApplyChange(s, ResolveIncident{"nope", "x"}, "ops", kOpenAt, &changed);
  EXPECT_FALSE(changed);
}

TEST(IncidentChangesTest, ResolveLeavesAnOperatorsOwnBannerAlone) {
  RuntimeState s = Apply(RuntimeState{}, PaymentsDown(), kOpenAt);
  std::string id = OnlyId(s);
  // An operator replaces the incident's banner with their own words.
  BannerOverride mine{.message = "Pay by bank transfer meanwhile", .severity = "warning"};
  s = Apply(s, SetBanner{mine}, T("2026-12-05T14:10:00Z"), "alice");
  EXPECT_TRUE(s.banner->incident_id.empty());
  // And takes checkout's maintenance over with a message of their own.
  s = Apply(s, SetMaintenance{"checkout", {.message = "Checkout paused by hand"}},
            T("2026-12-05T14:11:00Z"), "alice");
  // And sets the room mode by hand too.
  RoomPatch p;
  p.mode = {FieldPatch<config::RoomMode>::Op::kSet, config::RoomMode::kQueueAll};
  s = Apply(s, PatchRoom{"shop", p}, T("2026-12-05T14:12:00Z"), "alice");

  s = Apply(s, ResolveIncident{id, "Fixed."}, T("2026-12-05T15:00:00Z"));
  ASSERT_TRUE(s.banner);
  EXPECT_EQ(s.banner->message, "Pay by bank transfer meanwhile");
  EXPECT_EQ(s.maintenance.at("checkout").message, "Checkout paused by hand");
  EXPECT_EQ(s.rooms.at("shop").mode, config::RoomMode::kQueueAll);

  // A later incident opened without a banner never writes over it.
  OpenIncident quiet = PaymentsDown();
  quiet.banner = false;
  quiet.room.reset();
  s = Apply(s, quiet, T("2026-12-05T15:05:00Z"));
  s = Apply(s, UpdateIncident{s.incidents[1].id, std::nullopt, "Looking"},
            T("2026-12-05T15:06:00Z"));
  EXPECT_EQ(s.banner->message, "Pay by bank transfer meanwhile");
}

TEST(IncidentChangesTest, BannerReplacedAtOpeningComesBackAtResolve) {
  RuntimeState s;
  s = Apply(s, SetBanner{{.message = "Free shipping this week", .severity = "info"}}, kOpenAt);
  s = Apply(s, PaymentsDown(), T("2026-12-05T14:05:00Z"));
  std::string id = s.incidents[0].id;
  EXPECT_EQ(s.banner->incident_id, id);
  s = Apply(s, ResolveIncident{id, "Fixed."}, T("2026-12-05T15:00:00Z"));
  ASSERT_TRUE(s.banner);
  EXPECT_EQ(s.banner->message, "Free shipping this week");
  EXPECT_TRUE(s.banner->incident_id.empty());
}

TEST(IncidentChangesTest, OperatorsMaintenanceIsNeitherTakenOverNorRemoved) {
  RuntimeState s;
  s = Apply(s, SetMaintenance{"checkout", {.message = "Planned upgrade"}}, kOpenAt, "alice");
  s = Apply(s, PaymentsDown(), T("2026-12-05T14:05:00Z"));
  std::string id = s.incidents[0].id;
  EXPECT_TRUE(s.incidents[0].applied.maintenance.empty());
  EXPECT_EQ(s.maintenance.at("checkout").message, "Planned upgrade");
  s = Apply(s, UpdateIncident{id, std::nullopt, "Update"}, T("2026-12-05T14:10:00Z"));
  EXPECT_EQ(s.maintenance.at("checkout").message, "Planned upgrade");
  s = Apply(s, ResolveIncident{id, "Fixed."}, T("2026-12-05T15:00:00Z"));
  EXPECT_EQ(s.maintenance.at("checkout").message, "Planned upgrade");
  EXPECT_EQ(s.maintenance.at("checkout").set_by, "alice");
}

TEST(IncidentChangesTest, TwoIncidentsHandTheBannerAndRoomModeBackInOrder) {
  RuntimeState s;
  s = Apply(s, SetBanner{{.message = "Promo", .severity = "info"}}, kOpenAt);
  RoomPatch p;
  p.mode = {FieldPatch<config::RoomMode>::Op::kSet, config::RoomMode::kOff};
  s = Apply(s, PatchRoom{"shop", p}, kOpenAt);
  OpenIncident first = PaymentsDown();
  s = Apply(s, first, T("2026-12-05T14:01:00Z"));
  OpenIncident second = PaymentsDown();
  second.title = "Search slow";
  second.room->mode = config::RoomMode::kAuto;
  s = Apply(s, second, T("2026-12-05T14:02:00Z"));
  ASSERT_EQ(s.incidents.size(), 2u);
  std::string a = s.incidents[0].id, b = s.incidents[1].id;
  EXPECT_NE(a, b);
  EXPECT_EQ(s.banner->incident_id, b);
  EXPECT_EQ(s.rooms.at("shop").mode_incident_id, b);

  // The first one resolves while the second's banner is shown: nothing of
  // the second's is touched, and the second now remembers the promo.
  s = Apply(s, ResolveIncident{a, "First fixed."}, T("2026-12-05T14:30:00Z"));
  EXPECT_EQ(s.banner->incident_id, b);
  EXPECT_EQ(s.rooms.at("shop").mode, config::RoomMode::kAuto);
  s = Apply(s, ResolveIncident{b, "Second fixed."}, T("2026-12-05T14:40:00Z"));
  ASSERT_TRUE(s.banner);
  EXPECT_EQ(s.banner->message, "Promo");
  EXPECT_EQ(s.rooms.at("shop").mode, config::RoomMode::kOff);  // the hand-set mode
  EXPECT_TRUE(s.rooms.at("shop").mode_incident_id.empty());
}

TEST(IncidentChangesTest, OperatorTakingTheRoomModeOverKeepsIt) {
  RuntimeState s = Apply(RuntimeState{}, PaymentsDown(), kOpenAt);
  std::string id = OnlyId(s);
  RoomPatch same;  // the same mode, set by hand: ownership moves, a change
  same.mode = {FieldPatch<config::RoomMode>::Op::kSet, config::RoomMode::kQueueAll};
  s = Apply(s, PatchRoom{"shop", same}, T("2026-12-05T14:05:00Z"), "alice");
  EXPECT_TRUE(s.rooms.at("shop").mode_incident_id.empty());
  s = Apply(s, ResolveIncident{id, "Fixed."}, T("2026-12-05T15:00:00Z"));
  EXPECT_EQ(s.rooms.at("shop").mode, config::RoomMode::kQueueAll);
}

// Two (or three) incidents asking for the same feature's maintenance: the
// one that set it hands it, at its resolve, to the most urgent other open
// incident that asked for it (most severe, then most recently started),
// rather than re-opening a feature an open outage still names.
OpenIncident CheckoutIncident(const char* title, IncidentImpact impact) {
  OpenIncident o;
  o.title = title;
  o.impact = impact;
  o.message = std::string(title) + ": checkout is paused.";
  o.features = {"checkout"};
  o.maintenance = {"checkout"};
  return o;
}

TEST(IncidentChangesTest, MaintenanceIsHandedToTheOtherIncidentThatAskedForIt) {
  RuntimeState s;
  s = Apply(s, CheckoutIncident("A", IncidentImpact::kPartialOutage), kOpenAt);
  s = Apply(s, CheckoutIncident("B", IncidentImpact::kMajorOutage), T("2026-12-05T14:05:00Z"));
  std::string a = s.incidents[0].id, b = s.incidents[1].id;
  EXPECT_EQ(s.maintenance.at("checkout").incident_id, a);
  EXPECT_TRUE(s.incidents[1].applied.maintenance.empty());  // left as it was at opening
  EXPECT_EQ(s.incidents[1].applied.maintenance_asked, std::vector<std::string>{"checkout"});

  s = Apply(s, ResolveIncident{a, "A fixed."}, T("2026-12-05T14:30:00Z"), "bob");
  ASSERT_EQ(s.maintenance.count("checkout"), 1u) << "B still names checkout: it stays closed";
  const MaintenanceOverride& m = s.maintenance.at("checkout");
  EXPECT_EQ(m.incident_id, b);
  EXPECT_EQ(m.message, "B: checkout is paused.");
  EXPECT_EQ(m.set_by, "bob");
  EXPECT_EQ(s.incidents[1].applied.maintenance, std::vector<std::string>{"checkout"});

  // Now B's: its updates carry their message to it, its resolve clears it.
  s = Apply(s, UpdateIncident{b, std::nullopt, "B: still on it."}, T("2026-12-05T14:40:00Z"));
  EXPECT_EQ(s.maintenance.at("checkout").message, "B: still on it.");
  s = Apply(s, ResolveIncident{b, "B fixed."}, T("2026-12-05T15:00:00Z"));
  EXPECT_EQ(s.maintenance.count("checkout"), 0u);
}

TEST(IncidentChangesTest, MaintenanceStaysWithItsIncidentWhenTheOtherResolvesFirst) {
  RuntimeState s;
  s = Apply(s, CheckoutIncident("A", IncidentImpact::kPartialOutage), kOpenAt);
  s = Apply(s, CheckoutIncident("B", IncidentImpact::kMajorOutage), T("2026-12-05T14:05:00Z"));
  std::string a = s.incidents[0].id, b = s.incidents[1].id;
  s = Apply(s, ResolveIncident{b, "B fixed."}, T("2026-12-05T14:30:00Z"));
  EXPECT_EQ(s.maintenance.at("checkout").incident_id, a);
  s = Apply(s, ResolveIncident{a, "A fixed."}, T("2026-12-05T15:00:00Z"));
  EXPECT_EQ(s.maintenance.count("checkout"), 0u);
}

TEST(IncidentChangesTest, MaintenanceGoesToTheMostSevereThenMostRecentAsker) {
  RuntimeState s;
  s = Apply(s, CheckoutIncident("A", IncidentImpact::kDegraded), kOpenAt);
  s = Apply(s, CheckoutIncident("B", IncidentImpact::kPartialOutage), T("2026-12-05T14:01:00Z"));
  s = Apply(s, CheckoutIncident("C", IncidentImpact::kMajorOutage), T("2026-12-05T14:02:00Z"));
  s = Apply(s, CheckoutIncident("D", IncidentImpact::kPartialOutage), T("2026-12-05T14:03:00Z"));
  OpenIncident named_only = CheckoutIncident("E", IncidentImpact::kMajorOutage);
  named_only.maintenance.clear();  // names checkout, asks for no maintenance
  s = Apply(s, named_only, T("2026-12-05T14:04:00Z"));
  std::string a = s.incidents[0].id, b = s.incidents[1].id, c = s.incidents[2].id,
              d = s.incidents[3].id;
  s = Apply(s, ResolveIncident{a, "A fixed."}, T("2026-12-05T14:10:00Z"));
  EXPECT_EQ(s.maintenance.at("checkout").incident_id, c);  // the most severe asker
  s = Apply(s, ResolveIncident{c, "C fixed."}, T("2026-12-05T14:20:00Z"));
  EXPECT_EQ(s.maintenance.at("checkout").incident_id, d);  // same impact: the later
  s = Apply(s, ResolveIncident{d, "D fixed."}, T("2026-12-05T14:30:00Z"));
  EXPECT_EQ(s.maintenance.at("checkout").incident_id, b);
  s = Apply(s, ResolveIncident{b, "B fixed."}, T("2026-12-05T14:40:00Z"));
  EXPECT_EQ(s.maintenance.count("checkout"), 0u) << "E never asked for maintenance";
}

TEST(IncidentChangesTest, AnOperatorsTakeOverIsNeitherHandedOverNorCleared) {
  RuntimeState s;
  s = Apply(s, CheckoutIncident("A", IncidentImpact::kPartialOutage), kOpenAt);
  s = Apply(s, CheckoutIncident("B", IncidentImpact::kMajorOutage), T("2026-12-05T14:05:00Z"));
  std::string a = s.incidents[0].id, b = s.incidents[1].id;
  s = Apply(s, SetMaintenance{"checkout", {.message = "Mine now"}}, T("2026-12-05T14:10:00Z"),
            "alice");
  EXPECT_TRUE(s.maintenance.at("checkout").incident_id.empty());
  s = Apply(s, ResolveIncident{a, "A fixed."}, T("2026-12-05T14:30:00Z"));
  EXPECT_TRUE(s.maintenance.at("checkout").incident_id.empty());
  EXPECT_EQ(s.maintenance.at("checkout").message, "Mine now");
  EXPECT_TRUE(s.incidents[1].applied.maintenance.empty());
  s = Apply(s, ResolveIncident{b, "B fixed."}, T("2026-12-05T15:00:00Z"));
  EXPECT_EQ(s.maintenance.at("checkout").message, "Mine now");
  EXPECT_EQ(s.maintenance.at("checkout").set_by, "alice");

  // The operator hands checkout back (DELETE) while two incidents are open:
  // nothing takes it again until an incident opens asking for it.
  s = Apply(s, CheckoutIncident("C", IncidentImpact::kPartialOutage), T("2026-12-05T15:10:00Z"));
  s = Apply(s, ClearMaintenance{"checkout"}, T("2026-12-05T15:20:00Z"), "alice");
  EXPECT_EQ(s.maintenance.count("checkout"), 0u);
}

TEST(IncidentChangesTest, HistoryIsPrunedAfterStatusHistoryDays) {
  RuntimeState s = Apply(RuntimeState{}, PaymentsDown(), kOpenAt);
  std::string old_id = OnlyId(s);
  s = Apply(s, ResolveIncident{old_id, "Fixed.", 30}, T("2026-12-05T15:00:00Z"));
  // 29 days later the resolved one is still kept beside a new one.
  OpenIncident next = PaymentsDown();
  next.history_days = 30;
  s = Apply(s, next, T("2027-01-03T15:00:00Z"));
  EXPECT_EQ(s.incidents.size(), 2u);
  // 30 days after it was resolved, the next incident change drops it.
  std::string new_id = s.incidents[1].id;
  s = Apply(s, UpdateIncident{new_id, std::nullopt, "Update", std::nullopt, 30},
            T("2027-01-04T15:00:00Z"));
  ASSERT_EQ(s.incidents.size(), 1u);
  EXPECT_EQ(s.incidents[0].id, new_id);
  // An open incident is never pruned, however old.
  EXPECT_FALSE(PruneIncidentHistory(&s, 0, T("2030-01-01T00:00:00Z")));
}

TEST(IncidentChangesTest, IdsStayUniqueAndReadable) {
  RuntimeState s;
  s.version = 41;
  EXPECT_EQ(NextIncidentId(s, kOpenAt), "20261205-42");
  Incident taken;
  taken.id = "20261205-42";
  s.incidents.push_back(taken);
  EXPECT_EQ(NextIncidentId(s, kOpenAt), "20261205-42a");
}

}  // namespace
}  // namespace tidegate::state
