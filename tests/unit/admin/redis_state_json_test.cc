// RuntimeState ⇄ JSON (admin/runtime_state_json.h): what the Redis store
// writes is read back field by field; malformed documents are errors.
#include <gtest/gtest.h>

#include "admin/runtime_state_json.h"
#include "common/rfc3339.h"

namespace tidegate::admin {
namespace {

common::TimePoint T(const char* text) { return common::ParseRfc3339(text).value(); }

state::RuntimeState FullState() {
  state::RuntimeState s;
  s.version = 42;
  s.maintenance["checkout"] = {.message = "Checkout is being upgraded",
                               .starts_at = T("2026-11-23T14:00:00Z"),
                               .until = T("2026-11-23T16:00:00Z"),
                               .set_by = "ops",
                               .set_at = T("2026-11-23T13:59:30Z")};
  state::MaintenanceOverride search;
  search.reopened = true;  // an operator ended a configured window
  search.until = T("2026-11-23T18:00:00Z");
  search.set_by = "bot";
  search.set_at = T("2026-11-23T10:00:00Z");
  s.maintenance["search"] = search;
  s.banner = state::BannerOverride{.message = "High demand «été» — next update 14:30",
                                   .severity = "warning",
                                   .next_update_at = T("2026-11-23T14:30:00Z"),
                                   .expires_at = T("2026-11-23T18:00:00Z"),
                                   .set_by = "ops",
                                   .set_at = T("2026-11-23T13:00:00Z")};
  state::RoomOverride r;
  r.mode = config::RoomMode::kQueueAll;
  r.total_active_users = 4000000000u;
  r.new_users_per_minute = 0;
  r.session_duration = std::chrono::milliseconds(90'000);
  r.queueing_method = config::QueueingMethod::kRandom;
  r.protect = false;
  r.set_by = "ops";
  r.set_at = T("2026-11-23T12:00:00Z");
  s.rooms["shop"] = r;
  state::RoomOverride partial;
  partial.mode = config::RoomMode::kOff;
  partial.set_by = "ops";
  partial.set_at = T("2026-11-23T12:00:01Z");
  s.rooms["outlet"] = partial;
  return s;
}

void ExpectSame(const state::RuntimeState& a, const state::RuntimeState& b) {
  EXPECT_EQ(a.version, b.version);
  ASSERT_EQ(a.maintenance.size(), b.maintenance.size());
  for (const auto& [name, m] : a.maintenance) {
    ASSERT_TRUE(b.maintenance.count(name)) << name;
    const state::MaintenanceOverride& n = b.maintenance.at(name);
    EXPECT_EQ(m.reopened, n.reopened) << name;
    EXPECT_EQ(m.message, n.message);
    EXPECT_EQ(m.starts_at, n.starts_at);
    EXPECT_EQ(m.until, n.until);
    EXPECT_EQ(m.set_by, n.set_by);
    EXPECT_EQ(m.set_at, n.set_at);
  }
  ASSERT_EQ(a.banner.has_value(), b.banner.has_value());
  if (a.banner) {
    EXPECT_EQ(a.banner->message, b.banner->message);
    EXPECT_EQ(a.banner->severity, b.banner->severity);
    EXPECT_EQ(a.banner->next_update_at, b.banner->next_update_at);
    EXPECT_EQ(a.banner->expires_at, b.banner->expires_at);
    EXPECT_EQ(a.banner->set_by, b.banner->set_by);
    EXPECT_EQ(a.banner->set_at, b.banner->set_at);
  }
  ASSERT_EQ(a.rooms.size(), b.rooms.size());
  for (const auto& [name, r] : a.rooms) {
    ASSERT_TRUE(b.rooms.count(name)) << name;
    const state::RoomOverride& n = b.rooms.at(name);
    EXPECT_EQ(r.mode, n.mode);
    EXPECT_EQ(r.total_active_users, n.total_active_users);
    EXPECT_EQ(r.new_users_per_minute, n.new_users_per_minute);
    EXPECT_EQ(r.session_duration, n.session_duration);
    EXPECT_EQ(r.queueing_method, n.queueing_method);
    EXPECT_EQ(r.protect, n.protect);
    EXPECT_EQ(r.set_by, n.set_by);
    EXPECT_EQ(r.set_at, n.set_at);
  }
}

TEST(RedisStateJsonTest, EveryFieldSurvivesARoundTrip) {
  state::RuntimeState s = FullState();
  std::string error;
  auto back = RuntimeStateFromText(ToJson(s).dump(), &error);
  ASSERT_TRUE(back) << error;
  ExpectSame(s, *back);
  EXPECT_EQ(ToJson(*back), ToJson(s));
}

TEST(RedisStateJsonTest, EmptyStateRoundTrips) {
  std::string error;
  auto back = RuntimeStateFromJson(ToJson(state::RuntimeState{}), &error);
  ASSERT_TRUE(back) << error;
  ExpectSame(state::RuntimeState{}, *back);
}

TEST(RedisStateJsonTest, SubSecondTimesAreCutToSecondsOnce) {
  state::RuntimeState s;
  s.version = 1;
  s.banner = state::BannerOverride();
  s.banner->message = "hi";
  s.banner->set_by = "ops";
  s.banner->set_at = T("2026-11-23T13:00:00Z") + std::chrono::milliseconds(750);
  std::string error;
  auto back = RuntimeStateFromJson(ToJson(s), &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->banner->set_at, T("2026-11-23T13:00:00Z"));
  EXPECT_EQ(ToJson(*back), ToJson(s));  // stable from then on
}

TEST(RedisStateJsonTest, MalformedDocumentsAreErrorsNamingTheField) {
  struct Case {
    const char* text;
    const char* error_contains;
  };
  const Case cases[] = {
      {"", "not valid JSON"},
      {"[]", "not a JSON object"},
      {"{}", "version"},
      {R"({"version": -1})", "version"},
      {R"({"version": "3"})", "version"},
      {R"({"version": 1, "maintenance": []})", "maintenance"},
      {R"({"version": 1, "maintenance": {"checkout": {"set_by": "a", "set_at": "2026-11-23T13:00:00Z"}}})",
       "maintenance.checkout.message"},
      {R"({"version": 1, "maintenance": {"checkout": {"message": "m", "set_by": "a", "set_at": "now"}}})",
       "maintenance.checkout.set_at"},
      {R"({"version": 1, "banner": {"message": "m", "severity": "loud", "set_by": "a", "set_at": "2026-11-23T13:00:00Z"}})",
       "banner.severity"},
      {R"({"version": 1, "rooms": {"shop": {"mode": "sometimes", "set_by": "a", "set_at": "2026-11-23T13:00:00Z"}}})",
       "rooms.shop.mode"},
      {R"({"version": 1, "rooms": {"shop": {"total_active_users": 5000000000, "set_by": "a", "set_at": "2026-11-23T13:00:00Z"}}})",
       "rooms.shop.total_active_users"},
      {R"({"version": 1, "rooms": {"shop": {"session_duration": "5 minutes", "set_by": "a", "set_at": "2026-11-23T13:00:00Z"}}})",
       "rooms.shop.session_duration"},
  };
  for (const Case& c : cases) {
    std::string error;
    EXPECT_FALSE(RuntimeStateFromText(c.text, &error)) << c.text;
    EXPECT_NE(error.find(c.error_contains), std::string::npos) << c.text << " → " << error;
  }
}

TEST(RedisStateJsonTest, AuditEntryDescribesTheChangedObject) {
  state::RuntimeState before = FullState();
  bool changed = false;
  state::RuntimeState after = state::ApplyChange(before, state::ClearMaintenance{"checkout"}, "ops",
                                                 T("2026-11-23T15:00:00Z"), &changed);
  ASSERT_TRUE(changed);
  nlohmann::json j = ChangeAuditJson(state::ClearMaintenance{"checkout"}, "ops",
                                     T("2026-11-23T15:00:00Z"), before, after);
  EXPECT_EQ(j["change"], "clear_maintenance");
  EXPECT_EQ(j["target"], "checkout");
  EXPECT_EQ(j["token"], "ops");
  EXPECT_EQ(j["version"], 43);
  EXPECT_EQ(j["before"]["message"], "Checkout is being upgraded");
  EXPECT_TRUE(j["after"].is_null());
  EXPECT_EQ(j["time"], "2026-11-23T15:00:00.000Z");
}

}  // namespace
}  // namespace tidegate::admin
