// `tidegate ctl incident …`: the flags → API request mapping
// (ctl/incident_requests.h), and the commands end to end against a real
// AdminServer (open, update, list with an overdue mark, show, resolve).
#include "ctl/incident_requests.h"

#include <gtest/gtest.h>

#include <sstream>

#include "ctl/ctl.h"
#include "ctl/render.h"
#include "tests/unit/ctl/admin_server_harness.h"

namespace tidegate::ctl {
namespace {

using Json = nlohmann::json;

TEST(IncidentRequestsTest, OpenMapsEveryFlagToItsField) {
  std::string error;
  auto r = BuildIncidentRequest({"incident", "open"},
                                {{"title", "Payments"},
                                 {"message", "Card payments fail."},
                                 {"impact", "partial_outage"},
                                 {"features", "checkout,search"},
                                 {"maintenance", "checkout"},
                                 {"next-update", "+30m"},
                                 {"room", "shop=queue_all"},
                                 {"status", "identified"}},
                                {"banner"}, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->path, "/v1/incidents");
  Json body = Json::parse(*r->body);
  EXPECT_EQ(body, Json::parse(R"({"title": "Payments", "message": "Card payments fail.",
    "impact": "partial_outage", "features": ["checkout", "search"], "maintenance": ["checkout"],
    "banner": true, "next_update": "30m", "room": {"name": "shop", "mode": "queue_all"},
    "status": "identified"})"));
  r = BuildIncidentRequest(
      {"incident", "open"},
      {{"title", "t"}, {"message", "m"}, {"impact", "degraded"}, {"maintenance", "none"}}, {},
      &error);
  ASSERT_TRUE(r);
  EXPECT_EQ(Json::parse(*r->body)["maintenance"], false);
  EXPECT_FALSE(Json::parse(*r->body).contains("banner"));
}

TEST(IncidentRequestsTest, UpdateResolveListShowAndUsageErrors) {
  std::string error;
  auto r = BuildIncidentRequest({"incident", "update", "20261205-3"},
                                {{"message", "m"}, {"next-update", "1h"}}, {}, &error);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->path, "/v1/incidents/20261205-3/updates");
  EXPECT_EQ(Json::parse(*r->body), Json::parse(R"({"message": "m", "next_update": "1h"})"));
  r = BuildIncidentRequest({"incident", "resolve", "20261205-3"}, {{"message", "Done"}}, {},
                           &error);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->path, "/v1/incidents/20261205-3/resolve");
  EXPECT_EQ(Json::parse(*r->body), Json::parse(R"({"message": "Done"})"));
  r = BuildIncidentRequest({"incident", "list"}, {}, {}, &error);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->method, "GET");
  EXPECT_FALSE(r->single);
  r = BuildIncidentRequest({"incident", "show", "x"}, {}, {}, &error);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->path, "/v1/incidents/x");

  EXPECT_FALSE(BuildIncidentRequest({"incident", "open"}, {{"title", "t"}}, {}, &error));
  EXPECT_EQ(error, "incident open needs --message");
  EXPECT_FALSE(BuildIncidentRequest({"incident", "resolve", "x"}, {}, {}, &error));
  EXPECT_NE(error.find("closing message"), std::string::npos);
  EXPECT_FALSE(BuildIncidentRequest(
      {"incident", "open"},
      {{"title", "t"}, {"message", "m"}, {"impact", "degraded"}, {"room", "queue_all"}}, {},
      &error));
  EXPECT_NE(error.find("ROOM=MODE"), std::string::npos);
  EXPECT_FALSE(BuildIncidentRequest({"incident", "update"}, {{"message", "m"}}, {}, &error));
  // Not UTF-8 (a Latin-1 terminal): replaced, never an exception.
  r = BuildIncidentRequest({"incident", "resolve", "x"}, {{"message", "caf\xe9"}}, {}, &error);
  ASSERT_TRUE(r);
  EXPECT_EQ(Json::parse(*r->body)["message"], "caf\xef\xbf\xbd");
  EXPECT_FALSE(BuildIncidentRequest({"incident"}, {}, {}, &error));
}

// A word too many names itself (a value after --banner, which takes none),
// a missing ID says so, and a title or message of nothing but spaces is
// refused before anything is sent.
TEST(IncidentRequestsTest, StrayArgumentsAndBlankTextAreNamed) {
  std::string error;
  std::map<std::string, std::string> open = {
      {"title", "t"}, {"message", "m"}, {"impact", "degraded"}};
  EXPECT_FALSE(BuildIncidentRequest({"incident", "open", "yes"}, open, {"banner"}, &error));
  EXPECT_EQ(error,
            "incident open: unexpected argument 'yes' (--banner takes no value: it is on when "
            "given)");
  EXPECT_FALSE(
      BuildIncidentRequest({"incident", "resolve", "x", "y"}, {{"message", "m"}}, {}, &error));
  EXPECT_EQ(error, "incident resolve: unexpected argument 'y'");
  EXPECT_FALSE(BuildIncidentRequest({"incident", "update"}, {{"message", "m"}}, {}, &error));
  EXPECT_NE(error.find("needs the incident's ID"), std::string::npos) << error;

  auto blank_title = open;
  blank_title["title"] = "  ";
  EXPECT_FALSE(BuildIncidentRequest({"incident", "open"}, blank_title, {}, &error));
  EXPECT_EQ(error, "incident open: --title must say something (not only spaces)");
  auto blank_message = open;
  blank_message["message"] = " ";
  EXPECT_FALSE(BuildIncidentRequest({"incident", "open"}, blank_message, {}, &error));
  EXPECT_EQ(error, "incident open: --message must say something (not only spaces)");
  EXPECT_FALSE(BuildIncidentRequest({"incident", "resolve", "x"}, {{"message", " "}}, {}, &error));
  EXPECT_NE(error.find("--message must say something"), std::string::npos) << error;
}

struct Result {
  int code;
  std::string out, err;
};

Result RunCtlTool(const std::vector<std::string>& args, const char* token) {
  std::ostringstream out, err;
  CtlEnvironment env;
  env.token = token;
  int code = RunCtlArgs(args, env, out, err);
  return {code, out.str(), err.str()};
}

TEST(IncidentCtlTest, OpenUpdateListShowResolve) {
  testing::AdminServerHarness h;
  ASSERT_TRUE(h.started()) << h.start_error();
  std::string admin = "--admin=" + h.url();
  const char* ops = admin::testing::kOperatorToken;
  Result r = RunCtlTool({admin, "--json", "incident", "open", "--title", "Card payments failing",
                         "--message", "Card payments fail.", "--impact", "partial_outage",
                         "--features", "checkout", "--banner", "--next-update", "30m"},
                        ops);
  ASSERT_EQ(r.code, 0) << r.err;
  std::string id = Json::parse(r.out)["id"];

  r = RunCtlTool({admin, "incident", "update", id, "--status", "identified", "--message",
                  "Provider found the fault."},
                 ops);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("incident " + id + " identified (state version 2)"), std::string::npos)
      << r.out;
  // Newest first in the timeline.
  EXPECT_LT(r.out.find("Provider found the fault."), r.out.find("Card payments fail.")) << r.out;

  r = RunCtlTool({admin, "incident", "list"}, admin::testing::kViewerToken);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(id), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Card payments failing"), std::string::npos) << r.out;

  r = RunCtlTool({admin, "state"}, admin::testing::kViewerToken);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("INCIDENTS (open)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(id), std::string::npos) << r.out;

  r = RunCtlTool({admin, "incident", "resolve", id, "--message", "Fixed."}, ops);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("resolved"), std::string::npos) << r.out;
  r = RunCtlTool({admin, "incident", "resolve", id, "--message", "Again."}, ops);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("409: incident_resolved"), std::string::npos) << r.err;
  r = RunCtlTool({admin, "incident", "show", "nope"}, ops);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("404: unknown_incident"), std::string::npos) << r.err;
}

TEST(IncidentRenderTest, OverdueUpdateIsMarkedLate) {
  Json list = Json::parse(R"({"incidents": [{"id": "20261205-3", "status": "identified",
    "impact": "major_outage", "started_at": "2026-12-05T14:00:00Z",
    "next_update_at": "2026-12-05T14:30:00Z", "update_overdue": true, "title": "Down"}]})");
  std::ostringstream out;
  RenderIncidents(list, out);
  EXPECT_NE(out.str().find("2026-12-05T14:30:00Z (LATE)"), std::string::npos) << out.str();
  std::ostringstream empty;
  RenderIncidents(Json::parse(R"({"incidents": []})"), empty);
  EXPECT_EQ(empty.str(), "(no open or recent incidents)\n");
}

}  // namespace
}  // namespace tidegate::ctl
