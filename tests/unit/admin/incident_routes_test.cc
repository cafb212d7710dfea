// The incident routes of the admin API without HTTP (admin/routes_incidents.cc):
// open → update → resolve, each one state version and one audit entry;
// validation, roles, unknown and resolved ids; GET /v1/state shows them; and
// the JSON codec of incidents round-trips through the stored state document.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "admin/admin_api.h"
#include "admin/incident_json.h"
#include "admin/runtime_state_json.h"
#include "common/rfc3339.h"
#include "tests/unit/admin/test_fixtures.h"

namespace tidegate::admin {
namespace {

using Json = nlohmann::json;
using testing::kOperatorToken;
using testing::kViewerToken;

class IncidentRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/tidegate_incident_XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
    std::string error;
    audit_ = AuditLog::Open(dir_ + "/audit.log", &error);
    ASSERT_TRUE(audit_) << error;
    store_ = std::make_unique<LocalStore>(time_);
    AdminApi::Deps deps;
    deps.config = [this] { return config_; };
    deps.store = store_.get();
    deps.audit = audit_.get();
    deps.time = &time_;
    api_ = std::make_unique<AdminApi>(deps, config_->admin);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  ApiResponse Call(const std::string& method, const std::string& path, const char* token,
                   const std::string& body = "") {
    ApiRequest r;
    r.method = method;
    r.path = path;
    if (token) r.authorization = std::string("Bearer ") + token;
    r.body = body;
    r.client_ip = "127.0.0.1";
    r.client_address = "127.0.0.1:5000";
    r.client_is_loopback = true;
    ApiResponse out;
    api_->Handle(r, [&](ApiResponse resp) { out = std::move(resp); });
    return out;
  }
  static Json Body(const ApiResponse& r) { return Json::parse(r.body); }
  std::vector<Json> Audit() {
    std::vector<Json> records;
    std::string error;
    EXPECT_TRUE(audit_->ReadLast(1000, &records, &error));
    return records;
  }
  std::string Open(const std::string& body) {
    ApiResponse r = Call("POST", "/v1/incidents", kOperatorToken, body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? Body(r)["id"].get<std::string>() : "";
  }

  std::string dir_;
  std::shared_ptr<const config::Config> config_ = testing::TestConfig();
  common::FakeTimeSource time_{common::ParseRfc3339("2026-12-05T14:00:00Z").value()};
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<LocalStore> store_;
  std::unique_ptr<AdminApi> api_;
};

constexpr char kOpenBody[] = R"({"title": "Card payments failing",
  "message": "Our payment provider fails; checkout is paused.", "impact": "partial_outage",
  "features": ["checkout"], "banner": true, "next_update": "30m",
  "room": {"name": "shop", "mode": "queue_all"}})";

TEST_F(IncidentRoutesTest, OpenUpdateResolveOneVersionAndOneAuditEntryEach) {
  ApiResponse r = Call("POST", "/v1/incidents", kOperatorToken, kOpenBody);
  ASSERT_EQ(r.status, 201) << r.body;
  Json j = Body(r);
  std::string id = j["id"];
  EXPECT_EQ(id, "20261205-1");
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["incident"]["next_update_at"], "2026-12-05T14:30:00Z");
  EXPECT_EQ(j["incident"]["applied"]["maintenance"], Json::array({"checkout"}));
  EXPECT_FALSE(j["incident"]["applied"].contains("replaced_banner"));
  bool has_location = false;
  for (const auto& [k, v] : r.headers)
    has_location |= k == "Location" && v == "/v1/incidents/" + id;
  EXPECT_TRUE(has_location);

  Json state = Body(Call("GET", "/v1/state", kViewerToken));
  EXPECT_EQ(state["features"]["checkout"]["under_maintenance"], true);
  EXPECT_EQ(state["features"]["checkout"]["maintenance"]["incident_id"], id);
  EXPECT_EQ(state["banner"]["enabled"], true);
  EXPECT_EQ(state["banner"]["override"]["incident_id"], id);
  EXPECT_EQ(state["rooms"]["shop"]["mode"]["value"], "queue_all");
  EXPECT_EQ(state["rooms"]["shop"]["override"]["mode_incident_id"], id);
  ASSERT_EQ(state["incidents"].size(), 1u);
  EXPECT_EQ(state["headline_incident"], id);

  time_.Advance(std::chrono::minutes(25));
  r = Call("POST", "/v1/incidents/" + id + "/updates", kOperatorToken,
           R"({"status": "identified", "message": "The provider found the fault.",
               "next_update": "2026-12-05T15:00:00Z"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["version"], 2);
  EXPECT_EQ(Body(r)["incident"]["updates"].size(), 2u);

  time_.Advance(std::chrono::minutes(40));  // 15:05: the promised update is late
  Json list = Body(Call("GET", "/v1/incidents", kViewerToken));
  ASSERT_EQ(list["incidents"].size(), 1u);
  EXPECT_EQ(list["incidents"][0]["update_overdue"], true);
  EXPECT_EQ(list["incidents"][0]["status"], "identified");

  r = Call("POST", "/v1/incidents/" + id + "/resolve", kOperatorToken,
           R"({"message": "Payments work again."})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["version"], 3);
  state = Body(Call("GET", "/v1/state", kViewerToken));
  EXPECT_EQ(state["features"]["checkout"]["under_maintenance"], false);
  EXPECT_TRUE(state["banner"]["override"].is_null());
  EXPECT_EQ(state["rooms"]["shop"]["mode"]["source"], "config");
  EXPECT_TRUE(state["incidents"].empty());
  EXPECT_TRUE(state["headline_incident"].is_null());
  list = Body(Call("GET", "/v1/incidents", kViewerToken));
  ASSERT_EQ(list["incidents"].size(), 1u);  // recent
  EXPECT_EQ(list["incidents"][0]["open"], false);
  EXPECT_EQ(list["incidents"][0]["updates"].back()["message"], "Payments work again.");
  EXPECT_EQ(list["incidents"][0]["update_overdue"], false);

  std::vector<Json> audit = Audit();
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[0]["route"], "/v1/incidents");
  EXPECT_TRUE(audit[0]["before"]["incident"].is_null());
  EXPECT_TRUE(audit[0]["before"]["banner"].is_null());
  EXPECT_EQ(audit[0]["after"]["banner"]["incident_id"], id);
  EXPECT_EQ(audit[0]["after"]["maintenance"]["checkout"]["incident_id"], id);
  EXPECT_EQ(audit[2]["route"], "/v1/incidents/" + id + "/resolve");
  EXPECT_TRUE(audit[2]["after"]["maintenance"]["checkout"].is_null());
  EXPECT_EQ(audit[2]["after"]["incident"]["status"], "resolved");

  // A resolved incident takes no more updates.
  r = Call("POST", "/v1/incidents/" + id + "/updates", kOperatorToken, R"({"message": "x"})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(Body(r)["error"], "incident_resolved");
  EXPECT_EQ(Audit().size(), 3u);
}

TEST_F(IncidentRoutesTest, DegradedImpactListsComponentsWithoutSwitchingThemOff) {
  std::string id = Open(
      R"({"title": "Search slow", "message": "Search is slow.", "impact": "degraded",
          "features": ["search"]})");
  Json state = Body(Call("GET", "/v1/state", kViewerToken));
  EXPECT_EQ(state["features"]["search"]["under_maintenance"], false);
  EXPECT_EQ(state["incidents"][0]["features"], Json::array({"search"}));
  EXPECT_EQ(state["banner"]["source"], "config");  // banner not asked for
  // Explicit list wins over the impact's default.
  Open(R"({"title": "Checkout", "message": "m", "impact": "major_outage",
           "features": ["checkout", "search"], "maintenance": ["checkout"]})");
  state = Body(Call("GET", "/v1/state", kViewerToken));
  EXPECT_EQ(state["features"]["checkout"]["under_maintenance"], true);
  EXPECT_EQ(state["features"]["search"]["under_maintenance"], false);
}

TEST_F(IncidentRoutesTest, MaintenanceAlreadySetIsReportedAndLeftAlone) {
  ASSERT_EQ(Call("PUT", "/v1/features/checkout/maintenance", kOperatorToken,
                 R"({"message": "Planned upgrade"})")
                .status,
            200);
  ApiResponse r = Call("POST", "/v1/incidents", kOperatorToken, kOpenBody);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Body(r)["maintenance_left_as_it_was"], Json::array({"checkout"}));
  std::string id = Body(r)["id"];
  ASSERT_EQ(
      Call("POST", "/v1/incidents/" + id + "/resolve", kOperatorToken, R"({"message": "Fixed."})")
          .status,
      200);
  Json state = Body(Call("GET", "/v1/state", kViewerToken));
  EXPECT_EQ(state["features"]["checkout"]["maintenance"]["message"], "Planned upgrade");
}

TEST_F(IncidentRoutesTest, RefusalsChangeNothing) {
  struct Case {
    const char* method;
    std::string path;
    const char* token;
    std::string body;
    int status;
    const char* detail_has;
  };
  std::string id = Open(kOpenBody);
  std::vector<Case> cases = {
      {"POST", "/v1/incidents", kViewerToken, kOpenBody, 403, "operator"},
      {"POST", "/v1/incidents", nullptr, kOpenBody, 401, "Authorization"},
      {"POST", "/v1/incidents", kOperatorToken, "{", 400, "JSON"},
      {"POST", "/v1/incidents", kOperatorToken, R"({"message": "m", "impact": "degraded"})", 422,
       "title"},
      {"POST", "/v1/incidents", kOperatorToken, R"({"title": "t", "message": "m"})", 422,
       "impact: is required: one of"},
      {"POST", "/v1/incidents", kOperatorToken,
       R"({"title": "t", "message": "m", "impact": "bad"})", 422,
       "impact: must be one of \"degraded\", \"partial_outage\", \"major_outage\", "
       "\"maintenance\" (got \"bad\")"},
      {"POST", "/v1/incidents", kOperatorToken,
       R"({"title": "t", "message": "m", "impact": "Degraded"})", 422, "impact: must be one of"},
      {"POST", "/v1/incidents", kOperatorToken,
       R"({"title": " ", "message": "m", "impact": "degraded"})", 422,
       "title: must not be only spaces"},
      {"POST", "/v1/incidents", kOperatorToken,
       R"({"title": "t", "message": "  \u00a0\u3000 ", "impact": "degraded"})", 422,
       "message: must not be only spaces"},
      {"POST", "/v1/incidents/" + id + "/updates", kOperatorToken, R"({"message": " "})", 422,
       "message: must not be only spaces"},
      {"POST", "/v1/incidents/" + id + "/resolve", kOperatorToken, R"({"message": " "})", 422,
       "message: must not be only spaces"},
      {"PUT", "/v1/banner", kOperatorToken, R"({"message": "   "})", 422,
       "message: must not be only spaces"},
      {"PUT", "/v1/features/checkout/maintenance", kOperatorToken, R"({"message": " "})", 422,
       "message: must not be only spaces"},
      {"POST", "/v1/incidents", kOperatorToken,
       R"({"title": "t", "message": "m", "impact": "degraded", "features": ["chekout"]})", 422,
       "known: checkout, search"},
      {"POST", "/v1/incidents", kOperatorToken,
       R"({"title": "t", "message": "m", "impact": "degraded", "room": {"name": "x", "mode": "off"}})",
       422, "room.name"},
      {"POST", "/v1/incidents", kOperatorToken,
       R"({"title": "t", "message": "m", "impact": "degraded", "next_update": "soon"})", 422,
       "next_update"},
      {"POST", "/v1/incidents", kOperatorToken,
       R"({"title": "t", "message": "m", "impact": "degraded", "next_update": "8d"})", 422,
       "between 1m and 7d"},
      {"POST", "/v1/incidents", kOperatorToken,
       R"({"title": "t", "message": "m", "impact": "degraded", "next_update": "2020-01-01T00:00:00Z"})",
       422, "future"},
      {"POST", "/v1/incidents", kOperatorToken,
       R"({"title": "t", "message": "m", "impact": "degraded", "status": "resolved"})", 422,
       "resolve"},
      {"POST", "/v1/incidents", kOperatorToken,
       R"({"title": "t", "message": "m", "impact": "degraded", "colour": "red"})", 422,
       "unknown field"},
      {"POST", "/v1/incidents", kOperatorToken,
       R"({"title": "t", "message": "m", "impact": "degraded", "features": ["search"],
           "maintenance": ["checkout"]})",
       422, "maintenance[0]"},
      {"POST", "/v1/incidents/nope/updates", kOperatorToken, R"({"message": "m"})", 404,
       "GET /v1/incidents"},
      {"POST", "/v1/incidents/" + id + "/updates", kOperatorToken, R"({})", 422, "message"},
      {"POST", "/v1/incidents/" + id + "/updates", kOperatorToken,
       R"({"message": "m", "status": "resolved"})", 422, "resolve"},
      {"POST", "/v1/incidents/" + id + "/resolve", kOperatorToken, R"({})", 422, "closing message"},
      {"DELETE", "/v1/incidents/" + id, kOperatorToken, "", 405, "GET"},
      {"POST", "/v1/incidents/" + id + "/other", kOperatorToken, "{}", 404, "no route"},
  };
  for (const Case& c : cases) {
    ApiResponse r = Call(c.method, c.path, c.token, c.body);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.path << " " << c.body << " → " << r.body;
    EXPECT_NE(Body(r)["detail"].get<std::string>().find(c.detail_has), std::string::npos) << r.body;
  }
  EXPECT_EQ(store_->Current()->version, 1u);
  EXPECT_EQ(Audit().size(), 1u);
  // A viewer reads them.
  EXPECT_EQ(Call("GET", "/v1/incidents", kViewerToken).status, 200);
  EXPECT_EQ(Body(Call("GET", "/v1/incidents/" + id, kViewerToken))["incident"]["id"], id);
}

TEST_F(IncidentRoutesTest, FuzzedBodiesNeverThrowNorChangeState) {
  std::string id = Open(kOpenBody);
  std::mt19937 rng(4321);
  // Every generated JSON body carries a bad "message" (required by all three
  // routes), so none is valid; the other keys get wrong types or values.
  const std::vector<Json> bad_message = {
      nullptr, 0, true, Json::array(), Json::object(), "", std::string(501, 'y'), "\x01"};
  const std::vector<Json> bad_any = {nullptr,
                                     1,
                                     -1,
                                     1.5,
                                     true,
                                     "",
                                     "x",
                                     "2020-01-01T00:00:00Z",
                                     "999999h",
                                     Json::array({1, "checkout", nullptr}),
                                     Json::array({"nope"}),
                                     Json::object({{"name", 1}}),
                                     Json::object({{"name", "shop"}, {"mode", "sometimes"}}),
                                     Json::object({{"bogus", true}})};
  const std::vector<std::string> keys = {"title",    "impact",      "status",
                                         "features", "banner",      "maintenance",
                                         "room",     "next_update", "bogus"};
  const std::vector<std::string> paths = {"/v1/incidents", "/v1/incidents/" + id + "/updates",
                                          "/v1/incidents/" + id + "/resolve"};
  for (int i = 0; i < 2000; ++i) {
    std::string body;
    if (rng() % 4 == 0) {
      for (size_t n = rng() % 48; n > 0; --n) body += static_cast<char>(rng() % 256);
    } else {
      Json j = {{"message", bad_message[rng() % bad_message.size()]}};
      for (int k = rng() % 4; k > 0; --k)
        j[keys[rng() % keys.size()]] = bad_any[rng() % bad_any.size()];
      body = j.dump(-1, ' ', false, Json::error_handler_t::replace);
    }
    ApiResponse r = Call("POST", paths[rng() % paths.size()], kOperatorToken, body);
    ASSERT_TRUE(r.status == 400 || r.status == 422) << r.status << " " << body << " → " << r.body;
  }
  EXPECT_EQ(store_->Current()->version, 1u);
  EXPECT_EQ(Audit().size(), 1u);
}

TEST(IncidentJsonTest, StoredStateRoundTripsIncidentsAndTags) {
  state::RuntimeState s;
  s.version = 9;
  state::Incident i;
  i.id = "20261205-9";
  i.title = "Payments";
  i.impact = state::IncidentImpact::kMajorOutage;
  i.status = state::IncidentStatus::kResolved;
  i.features = {"checkout"};
  auto t = common::ParseRfc3339("2026-12-05T14:00:00Z").value();
  i.updates = {
      {t, state::IncidentStatus::kInvestigating, "Down", t + std::chrono::minutes(30), "ops"},
      {t + std::chrono::hours(1), state::IncidentStatus::kResolved, "Fixed", {}, "ops"}};
  i.started_at = t;
  i.resolved_at = t + std::chrono::hours(1);
  i.opened_by = "ops";
  i.applied.maintenance = {"checkout"};
  i.applied.maintenance_asked = {"checkout", "search"};
  i.applied.banner = true;
  i.applied.room = "shop";
  i.applied.room_mode = config::RoomMode::kQueueAll;
  i.applied.replaced_room_mode = config::RoomMode::kOff;
  i.applied.replaced_room_mode_incident_id = "20261205-3";
  state::BannerOverride promo{.message = "Promo", .set_by = "alice", .set_at = t};
  i.applied.replaced_banner = std::make_shared<const state::BannerOverride>(promo);
  s.incidents.push_back(i);
  s.maintenance["checkout"] = {
      .message = "Down", .set_by = "ops", .set_at = t, .incident_id = i.id};
  s.banner =
      state::BannerOverride{.message = "Down", .set_by = "ops", .set_at = t, .incident_id = i.id};
  s.rooms["shop"] = {
      .mode = config::RoomMode::kQueueAll, .set_by = "ops", .set_at = t, .mode_incident_id = i.id};

  std::string text = ToJson(s).dump();
  std::string error;
  auto back = RuntimeStateFromText(text, &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(ToJson(*back).dump(), text);
  ASSERT_EQ(back->incidents.size(), 1u);
  const state::Incident& b = back->incidents[0];
  EXPECT_EQ(b.updates[0].next_update_at, t + std::chrono::minutes(30));
  EXPECT_EQ(b.applied.maintenance_asked, (std::vector<std::string>{"checkout", "search"}));
  ASSERT_TRUE(b.applied.replaced_banner);
  EXPECT_EQ(b.applied.replaced_banner->message, "Promo");
  EXPECT_EQ(b.applied.replaced_room_mode, config::RoomMode::kOff);
  EXPECT_EQ(back->banner->incident_id, i.id);
  EXPECT_EQ(back->maintenance.at("checkout").incident_id, i.id);
  EXPECT_EQ(back->rooms.at("shop").mode_incident_id, i.id);

  // A state written before incidents existed still reads.
  auto old = RuntimeStateFromText(R"({"version": 3, "maintenance": {}, "rooms": {}})", &error);
  ASSERT_TRUE(old) << error;
  EXPECT_TRUE(old->incidents.empty());
  // A broken incident names its field.
  Json broken = ToJson(s);
  broken["incidents"][0]["updates"][1]["status"] = "fine";
  EXPECT_FALSE(RuntimeStateFromJson(broken, &error));
  EXPECT_EQ(error, "incidents.0.updates.1.status: unknown value");
}

}  // namespace
}  // namespace tidegate::admin
