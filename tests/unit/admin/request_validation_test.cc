#include "admin/request_validation.h"
#include "common/rfc3339.h"

#include <gtest/gtest.h>

namespace tidegate::admin {
namespace {

using Json = nlohmann::json;

const common::TimePoint kNow = common::ParseRfc3339("2026-11-23T14:00:00Z").value();

// Expects a 422 whose detail starts with `field`.
template <typename F>
void ExpectInvalid(F validate, const Json& body, const std::string& field) {
  RequestError error;
  EXPECT_FALSE(validate(body, &error)) << body.dump();
  EXPECT_EQ(error.status, 422) << body.dump();
  EXPECT_EQ(error.detail.rfind(field + ":", 0), 0u) << body.dump() << " → " << error.detail;
}

auto Maintenance = [](const Json& b, RequestError* e) {
  return ValidateMaintenance(b, kNow, e).has_value();
};
auto Banner = [](const Json& b, RequestError* e) { return ValidateBanner(b, kNow, e).has_value(); };
auto Room = [](const Json& b, RequestError* e) { return ValidateRoomPatch(b, e).has_value(); };

TEST(ParseJsonObjectTest, MalformedIs400NonObjectIs422) {
  RequestError error;
  for (const char* bad : {"", "{", "{\"message\": }", "nul", "{'a': 1}", "\xff\xfe"}) {
    EXPECT_FALSE(ParseJsonObject(bad, &error)) << bad;
    EXPECT_EQ(error.status, 400) << bad;
    EXPECT_EQ(error.error, "malformed_json");
  }
  for (const char* not_object : {"[]", "1", "\"x\"", "null", "true"}) {
    EXPECT_FALSE(ParseJsonObject(not_object, &error)) << not_object;
    EXPECT_EQ(error.status, 422) << not_object;
  }
  EXPECT_TRUE(ParseJsonObject("{\"a\":1}", &error));
}

// 1e400 is JSON by RFC 8259's grammar but no double holds it: a value out
// of range (422), not malformed text (400).
TEST(ParseJsonObjectTest, ANumberOutOfRangeIs422) {
  RequestError error;
  for (const char* big : {R"({"total_active_users": 1e400})", R"({"a": [-1e999]})"}) {
    EXPECT_FALSE(ParseJsonObject(big, &error)) << big;
    EXPECT_EQ(error.status, 422) << big;
    EXPECT_EQ(error.error, "validation_failed");
    EXPECT_NE(error.detail.find("out of range"), std::string::npos) << error.detail;
  }
  EXPECT_FALSE(ParseJsonObject(R"({"a": 1e30})", &error) == std::nullopt) << error.detail;
}

// A name twice in one object is ambiguous: 400 like malformed JSON, at any
// depth; the same name in two different objects is fine.
TEST(ParseJsonObjectTest, ANameTwiceInOneObjectIs400) {
  RequestError error;
  for (const char* twice : {R"({"message":"a","message":"b"})", R"({"a":{"x":1,"x":2}})",
                            R"({"a":[{"x":1},{"y":1,"y":1}]})", R"({"m":1,"n":2,"m":1})"}) {
    EXPECT_FALSE(ParseJsonObject(twice, &error)) << twice;
    EXPECT_EQ(error.status, 400) << twice;
    EXPECT_EQ(error.error, "malformed_json");
    EXPECT_NE(error.detail.find("twice"), std::string::npos) << error.detail;
  }
  auto ok = ParseJsonObject(R"({"a":{"x":1},"b":{"x":2},"x":[{"x":1},{"x":2}]})", &error);
  ASSERT_TRUE(ok) << error.detail;
  EXPECT_EQ((*ok)["b"]["x"], 2);
}

TEST(ValidateMaintenanceTest, AcceptsValidBodies) {
  RequestError error;
  auto m = ValidateMaintenance(Json{{"message", "Checkout is paused"}}, kNow, &error);
  ASSERT_TRUE(m) << error.detail;
  EXPECT_EQ(m->message, "Checkout is paused");
  EXPECT_FALSE(m->until);
  m = ValidateMaintenance(Json{{"message", "x"},
                               {"until", "2026-11-23T15:00:00Z"},
                               {"starts_at", "2026-11-23T14:10:00Z"}},
                          kNow, &error);
  ASSERT_TRUE(m) << error.detail;
  EXPECT_EQ(common::FormatRfc3339(*m->until), "2026-11-23T15:00:00Z");
  EXPECT_EQ(common::FormatRfc3339(*m->starts_at), "2026-11-23T14:10:00Z");
}

TEST(ValidateMaintenanceTest, RefusesEachBadField) {
  ExpectInvalid(Maintenance, Json::object(), "message");
  ExpectInvalid(Maintenance, Json{{"message", ""}}, "message");
  ExpectInvalid(Maintenance, Json{{"message", 42}}, "message");
  ExpectInvalid(Maintenance, Json{{"message", Json::array()}}, "message");
  ExpectInvalid(Maintenance, Json{{"message", std::string(1001, 'a')}}, "message");
  ExpectInvalid(Maintenance, Json{{"message", "two\nlines"}}, "message");
  ExpectInvalid(Maintenance, Json{{"message", "x"}, {"until", "2026-11-23T13:00:00Z"}}, "until");
  ExpectInvalid(Maintenance, Json{{"message", "x"}, {"until", "2026-11-23T14:00:00Z"}}, "until");
  ExpectInvalid(Maintenance, Json{{"message", "x"}, {"until", "in an hour"}}, "until");
  ExpectInvalid(Maintenance, Json{{"message", "x"}, {"until", 1700000000}}, "until");
  ExpectInvalid(Maintenance,
                Json{{"message", "x"},
                     {"until", "2026-11-23T15:00:00Z"},
                     {"starts_at", "2026-11-23T15:00:00Z"}},
                "starts_at");
  ExpectInvalid(Maintenance, Json{{"message", "x"}, {"starts_at", true}}, "starts_at");
  ExpectInvalid(Maintenance, Json{{"message", "x"}, {"untill", "2026-11-23T15:00:00Z"}}, "untill");
}

TEST(ValidateBannerTest, AcceptsAndDefaults) {
  RequestError error;
  auto b = ValidateBanner(Json{{"message", "We are seeing high demand"}}, kNow, &error);
  ASSERT_TRUE(b) << error.detail;
  EXPECT_EQ(b->severity, "info");
  b = ValidateBanner(Json{{"message", "m"},
                          {"severity", "critical"},
                          {"next_update_at", "2026-11-23T14:30:00Z"},
                          {"expires_at", "2026-11-23T18:00:00Z"}},
                     kNow, &error);
  ASSERT_TRUE(b) << error.detail;
  EXPECT_EQ(b->severity, "critical");
  EXPECT_TRUE(b->next_update_at && b->expires_at);
}

TEST(ValidateBannerTest, RefusesEachBadField) {
  ExpectInvalid(Banner, Json::object(), "message");
  ExpectInvalid(Banner, Json{{"message", nullptr}}, "message");
  ExpectInvalid(Banner, Json{{"message", std::string(501, 'a')}}, "message");
  ExpectInvalid(Banner, Json{{"message", "m"}, {"severity", "urgent"}}, "severity");
  ExpectInvalid(Banner, Json{{"message", "m"}, {"severity", 3}}, "severity");
  ExpectInvalid(Banner, Json{{"message", "m"}, {"next_update_at", "14:30"}}, "next_update_at");
  ExpectInvalid(Banner, Json{{"message", "m"}, {"expires_at", "2020-01-01T00:00:00Z"}},
                "expires_at");
  ExpectInvalid(Banner, Json{{"message", "m"}, {"color", "red"}}, "color");
}

// Audit 20 F7: a promised update in the past was accepted on the banner
// (shoppers read "Update is late" at once) while an incident refuses it:
// now the same 422, in the incident's words.
TEST(ValidateBannerTest, RefusesANextUpdateInThePastLikeAnIncident) {
  for (const char* past : {"2020-01-01T00:00:00Z", "2026-11-23T14:00:00Z"}) {
    RequestError banner;
    EXPECT_FALSE(ValidateBanner(Json{{"message", "m"}, {"next_update_at", past}}, kNow, &banner));
    EXPECT_EQ(banner.status, 422);
    EXPECT_EQ(banner.error, "validation_failed");
    EXPECT_EQ(banner.detail, "next_update_at: must be in the future");
    RequestError incident;
    EXPECT_FALSE(
        ValidateIncidentUpdate(Json{{"message", "m"}, {"next_update", past}}, kNow, &incident));
    EXPECT_EQ(incident.status, banner.status);
    EXPECT_EQ(incident.error, banner.error);
    EXPECT_EQ(incident.detail, "next_update: must be in the future");
  }
  RequestError error;
  EXPECT_TRUE(ValidateBanner(Json{{"message", "m"}, {"next_update_at", "2026-11-23T14:00:01Z"}},
                             kNow, &error))
      << error.detail;
}

// "No control characters" covers C1 (U+0085 NEL, U+009B CSI), the line and
// paragraph separators and the bidirectional overrides and isolates (U+202E
// would show "Orders are safe" reversed around it); other non-ASCII text
// (accents, typographic quotes, emoji, U+2030 next to the refused range)
// passes.
TEST(ValidateBannerTest, RefusesUnicodeControlsAndKeepsOtherText) {
  for (const char* bad : {"a\\u0085b", "a\\u009bb", "a\\u0080b", "a\\u2028b", "a\\u2029b",
                          "a\\u202eb", "a\\u202ab", "a\\u2066b", "a\\u2069b"}) {
    Json body = Json::parse(std::string("{\"message\":\"") + bad + "\"}");
    ExpectInvalid(Banner, body, "message");
  }
  for (const char* good : {"Commandes sûres", "\\u00a0a\\u00ffb", "\\u201cquoted\\u201d",
                           "\\u2030 \\u2027 \\u2065", "\\ud83d\\ude80 launch"}) {
    RequestError error;
    Json body = Json::parse(std::string("{\"message\":\"") + good + "\"}");
    EXPECT_TRUE(ValidateBanner(body, kNow, &error)) << good << ": " << error.detail;
  }
}

TEST(ValidateRoomPatchTest, AcceptsSetAndClear) {
  RequestError error;
  auto p = ValidateRoomPatch(Json{{"mode", "queue_all"},
                                  {"total_active_users", 300},
                                  {"new_users_per_minute", 60},
                                  {"session_duration", "10m"},
                                  {"queueing_method", "random"}},
                             &error);
  ASSERT_TRUE(p) << error.detail;
  EXPECT_EQ(p->mode.value, config::RoomMode::kQueueAll);
  EXPECT_EQ(p->total_active_users.value, 300u);
  EXPECT_EQ(p->new_users_per_minute.value, 60u);
  EXPECT_EQ(p->session_duration.value, std::chrono::minutes(10));
  EXPECT_EQ(p->queueing_method.value, config::QueueingMethod::kRandom);
  p = ValidateRoomPatch(Json{{"mode", nullptr}}, &error);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->mode.op, state::FieldPatch<config::RoomMode>::Op::kClear);
  EXPECT_EQ(p->total_active_users.op, state::FieldPatch<uint32_t>::Op::kKeep);
}

TEST(ValidateRoomPatchTest, RefusesEachBadField) {
  ExpectInvalid(Room, Json::object(), "body");
  ExpectInvalid(Room, Json{{"mode", "sometimes"}}, "mode");
  ExpectInvalid(Room, Json{{"mode", 1}}, "mode");
  ExpectInvalid(Room, Json{{"total_active_users", 0}}, "total_active_users");
  ExpectInvalid(Room, Json{{"total_active_users", -5}}, "total_active_users");
  ExpectInvalid(Room, Json{{"total_active_users", 2.5}}, "total_active_users");
  ExpectInvalid(Room, Json{{"total_active_users", "100"}}, "total_active_users");
  ExpectInvalid(Room, Json{{"total_active_users", 100000001}}, "total_active_users");
  ExpectInvalid(Room, Json{{"new_users_per_minute", 0}}, "new_users_per_minute");
  ExpectInvalid(Room, Json{{"new_users_per_minute", true}}, "new_users_per_minute");
  ExpectInvalid(Room, Json{{"session_duration", 300}}, "session_duration");
  ExpectInvalid(Room, Json{{"session_duration", "5 minutes"}}, "session_duration");
  ExpectInvalid(Room, Json{{"session_duration", "500ms"}}, "session_duration");
  ExpectInvalid(Room, Json{{"session_duration", "48h"}}, "session_duration");
  ExpectInvalid(Room, Json{{"queueing_method", "lifo"}}, "queueing_method");
  ExpectInvalid(Room, Json{{"mode", "auto"}, {"modee", "auto"}}, "modee");
  ExpectInvalid(Room, Json{{"protect", "off"}}, "protect");
  ExpectInvalid(Room, Json{{"protect", 0}}, "protect");
}

// Auto-protection switched at run time: true / false set it, null clears.
TEST(ValidateRoomPatchTest, ProtectIsABooleanOrNull) {
  RequestError error;
  auto p = ValidateRoomPatch(Json{{"protect", false}}, &error);
  ASSERT_TRUE(p) << error.detail;
  EXPECT_EQ(p->protect.op, state::FieldPatch<bool>::Op::kSet);
  EXPECT_FALSE(p->protect.value);
  p = ValidateRoomPatch(Json{{"protect", nullptr}}, &error);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->protect.op, state::FieldPatch<bool>::Op::kClear);
}

}  // namespace
}  // namespace tidegate::admin

namespace tidegate::admin {
namespace {

// The rooms switched on at run time that the configuration cannot queue
// (health's "room_mode:NAME" parts; a reload creating one is refused).
TEST(RoomsUnableToQueueTest, NamesEachRoomItsModeAndWhy) {
  config::Config config;
  for (const char* name : {"a", "b", "c", "d"}) {
    config::RoomConfig room;
    room.name = name;
    room.mode = config::RoomMode::kOff;
    room.enabled = std::string(name) != "b";
    config.rooms.push_back(room);
  }
  state::RuntimeState state;
  state.rooms["a"].mode = config::RoomMode::kQueueAll;
  state.rooms["b"].mode = config::RoomMode::kAuto;
  state.rooms["b"].mode_incident_id = "inc-7";
  state.rooms["c"].mode = config::RoomMode::kOff;      // off queues nobody, honestly
  state.rooms["d"].total_active_users = 10;            // no run-time mode
  state.rooms["gone"].mode = config::RoomMode::kAuto;  // not configured: no gate

  // No key: every room switched on; b is disabled as well (said first).
  std::vector<RoomUnableToQueue> unable = RoomsUnableToQueue(config, state);
  ASSERT_EQ(unable.size(), 2u);
  EXPECT_EQ(unable[0].room, "a");
  EXPECT_EQ(unable[0].mode, config::RoomMode::kQueueAll);
  EXPECT_EQ(unable[0].error, "no_signing_key");
  EXPECT_EQ(unable[0].incident_id, "");
  EXPECT_EQ(unable[1].room, "b");
  EXPECT_EQ(unable[1].mode, config::RoomMode::kAuto);
  EXPECT_EQ(unable[1].error, "room_disabled");
  EXPECT_EQ(unable[1].incident_id, "inc-7");

  // With a key only the disabled room remains.
  config.secrets.token_keys.push_back({"k1", "", std::string(32, 'k')});
  unable = RoomsUnableToQueue(config, state);
  ASSERT_EQ(unable.size(), 1u);
  EXPECT_EQ(unable[0].room, "b");

  config.rooms[1].enabled = true;
  EXPECT_TRUE(RoomsUnableToQueue(config, state).empty());
}

}  // namespace
}  // namespace tidegate::admin
