// queue/room_state_json.h: every field of a local room's persisted state
// survives JSON and back, and a malformed document names the field.
#include "queue/room_state_json.h"

#include <gtest/gtest.h>

#include "queue/room_logic.h"

namespace tidegate::queue {
namespace {

LocalRoomStore::Persisted Sample() {
  LocalRoomStore::Persisted p;
  RoomState& s = p.state;
  s.tickets = 1234;
  s.serving = 1200;
  s.admitted_total = 987;
  s.credit = 2.718281828459045;
  s.last_tick_ms = 1'764'892'800'123;
  s.claim_ratio = 0.8125;
  s.sessions.Add(176489280, 40);
  s.sessions.Add(176489281, 2);
  s.admissions.Add(176489281, 7);
  s.claims.Add(176489280, 3);
  s.invitations.Add(176489280, 5);
  s.first_invited[176489280] = 1196;
  s.integrity.claimed.Set(1190);
  s.integrity.claimed.Set(1199);
  s.integrity.ended.Insert(77, 1'764'893'100'000, 1'764'892'800'000);
  s.integrity.ended.Insert(78, 1'764'893'200'000, 1'764'892'800'000);
  s.integrity.renewed.Record(90, 176'489'280);
  s.integrity.renewed.Record(91, 176'489'281);
  s.integrity.renewed.Record(90, 176'489'282);  // superseded: exported once
  p.marks["sale.start"] = 100;
  return p;
}

TEST(RoomStateJsonTest, RoundTripKeepsEveryField) {
  LocalRoomStore::Persisted in = Sample();
  std::string error;
  auto out = RoomFromJson(nlohmann::json::parse(RoomToJson(in).dump()), &error);
  ASSERT_TRUE(out) << error;
  EXPECT_EQ(out->state.tickets, 1234u);
  EXPECT_EQ(out->state.serving, 1200u);
  EXPECT_EQ(out->state.admitted_total, 987u);
  EXPECT_EQ(out->state.credit, in.state.credit);
  EXPECT_EQ(out->state.last_tick_ms, in.state.last_tick_ms);
  EXPECT_EQ(out->state.claim_ratio, 0.8125);
  EXPECT_EQ(out->state.sessions.entries(), in.state.sessions.entries());
  EXPECT_EQ(out->state.admissions.entries(), in.state.admissions.entries());
  EXPECT_EQ(out->state.claims.entries(), in.state.claims.entries());
  EXPECT_EQ(out->state.invitations.entries(), in.state.invitations.entries());
  EXPECT_EQ(out->state.first_invited, in.state.first_invited);
  EXPECT_EQ(out->marks, in.marks);
  // One ticket, one admission and one end per session survive too.
  EXPECT_EQ(out->state.integrity.claimed.words(), in.state.integrity.claimed.words());
  EXPECT_TRUE(out->state.integrity.claimed.Test(1190));
  EXPECT_TRUE(out->state.integrity.claimed.Test(1199));
  EXPECT_FALSE(out->state.integrity.claimed.Test(1195));
  EXPECT_EQ(out->state.integrity.ended.entries(), in.state.integrity.ended.entries());
  EXPECT_TRUE(out->state.integrity.ended.Contains(78, 1'764'893'000'000));
  EXPECT_EQ(out->state.integrity.renewed.size(), 2u);
  EXPECT_EQ(out->state.integrity.renewed.Find(90), 176'489'282);
  EXPECT_EQ(out->state.integrity.renewed.Find(91), 176'489'281);
}

TEST(RoomStateJsonTest, ImportedStoreContinuesTheLine) {
  LocalRoomStore store;
  store.Import(Sample());
  EXPECT_EQ(store.Snapshot().tickets, 1234u);
  EXPECT_EQ(store.Snapshot().active, 42);
  RoomLimits limits;
  limits.total_active_users = 1;  // full: the newcomer queues
  uint64_t ticket = 0;
  store.Arrive({}, limits, 1'764'892'810'000, true,
               [&](const StoreResult<ArriveOutcome>& r) { ticket = r.value.ticket; });
  EXPECT_EQ(ticket, 1235u) << "numbers continue after the saved ones";
  LocalRoomStore::Persisted again = store.Export();
  EXPECT_EQ(again.state.tickets, 1235u);
  EXPECT_EQ(again.marks.at("sale.start"), 100u);
}

TEST(RoomStateJsonTest, MalformedDocumentsNameTheField) {
  std::string error;
  EXPECT_FALSE(RoomFromJson(nlohmann::json::array(), &error));
  EXPECT_EQ(error, "expected an object");
  EXPECT_FALSE(RoomFromJson(nlohmann::json{{"tickets", -1}}, &error));
  EXPECT_EQ(error, "tickets: expected a non-negative integer");
  EXPECT_FALSE(RoomFromJson(nlohmann::json{{"credit", "a lot"}}, &error));
  EXPECT_EQ(error, "credit: expected a number");
  EXPECT_FALSE(RoomFromJson(nlohmann::json::parse(R"({"sessions": [[1, 2], [3]]})"), &error));
  EXPECT_EQ(error, "sessions[1]: expected a pair of integers");
  EXPECT_FALSE(RoomFromJson(nlohmann::json::parse(R"({"marks": {"a": "b"}})"), &error));
  EXPECT_EQ(error, "marks.a: expected a non-negative integer");
  EXPECT_FALSE(
      RoomFromJson(nlohmann::json::parse(R"({"integrity": {"claimed": "AAAA"}})"), &error));
  EXPECT_EQ(error.rfind("integrity.claimed: expected the base64url", 0), 0u) << error;
  EXPECT_FALSE(
      RoomFromJson(nlohmann::json::parse(R"({"integrity": {"ended": [[1, -2]]}})"), &error));
  EXPECT_EQ(error, "integrity.ended[0]: expected a pair of integers (the second not negative)");
}

// The controller's state as RedisProtectLease carries it between
// instances: every field survives, moves travel by name.
TEST(ProtectStateJsonTest, RoundTripsEveryField) {
  ProtectState s;
  s.limit = 37.5;
  s.rate = 412.25;
  s.congestion_at = 44;
  s.ramp_from = 30;
  s.probe_since_ms = 1'800'000'000'900;
  s.decided_ms = 1'800'000'001'000;
  s.settle_until_ms = 1'800'000'002'000;
  s.move = ProtectMove::kCutLatency;
  s.direction = -1;
  s.moved_ms = 1'800'000'000'500;
  s.last_change = ProtectMove::kCutErrors;
  s.reason = "p90 812 ms > target 500 ms";
  s.health.samples = 120;
  s.health.errors = 3;
  s.health.p90_ms = 812;
  nlohmann::json j = ProtectStateToJson(s);
  EXPECT_EQ(j["move"], std::string(ProtectMoveName(ProtectMove::kCutLatency)));
  std::string error;
  auto back = ProtectStateFromJson(nlohmann::json::parse(j.dump()), &error);
  ASSERT_TRUE(back) << error;
  EXPECT_DOUBLE_EQ(back->limit, 37.5);
  EXPECT_DOUBLE_EQ(back->rate, 412.25);
  EXPECT_DOUBLE_EQ(back->congestion_at, 44);
  EXPECT_DOUBLE_EQ(back->ramp_from, 30);
  EXPECT_EQ(back->probe_since_ms, s.probe_since_ms);
  EXPECT_EQ(back->decided_ms, s.decided_ms);
  EXPECT_EQ(back->settle_until_ms, s.settle_until_ms);
  EXPECT_EQ(back->move, ProtectMove::kCutLatency);
  EXPECT_EQ(back->direction, -1);
  EXPECT_EQ(back->moved_ms, s.moved_ms);
  EXPECT_EQ(back->last_change, ProtectMove::kCutErrors);
  EXPECT_EQ(back->reason, s.reason);
  EXPECT_EQ(back->health.samples, 120u);
  EXPECT_EQ(back->health.errors, 3u);
  EXPECT_EQ(back->health.p90_ms, 812);
}

TEST(ProtectStateJsonTest, RefusesWrongShapesAndReadsUnknownMovesAsHold) {
  std::string error;
  EXPECT_FALSE(ProtectStateFromJson(nlohmann::json::array(), &error));
  EXPECT_EQ(error, "expected an object");
  EXPECT_FALSE(ProtectStateFromJson(nlohmann::json{{"limit", "high"}}, &error));
  EXPECT_EQ(error, "limit: expected a number");
  EXPECT_FALSE(ProtectStateFromJson(nlohmann::json{{"move", 3}}, &error));
  EXPECT_EQ(error, "move: expected a string");
  auto s = ProtectStateFromJson(nlohmann::json{{"move", "teleport"}}, &error);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->move, ProtectMove::kHold);
}

}  // namespace
}  // namespace tidegate::queue
