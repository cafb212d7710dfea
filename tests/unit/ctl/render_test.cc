// ctl/render.h: what `tidegate ctl audit` prints for the two audit sources.
#include "ctl/render.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

namespace tidegate::ctl {
namespace {

using Json = nlohmann::json;

TEST(RenderAuditTest, SharedTrailShowsWhatChangedOnWhat) {
  Json audit = {{"source", "shared"},
                {"records",
                 {{{"time", "2026-12-02T14:30:00.000Z"},
                   {"token", "ops"},
                   {"change", "set_maintenance"},
                   {"target", "checkout"},
                   {"after", {{"message", "upgrading"}}}}}}};
  std::ostringstream out;
  RenderAudit(audit, out);
  EXPECT_NE(out.str().find("CHANGE"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("set_maintenance"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("checkout"), std::string::npos) << out.str();
  EXPECT_EQ(out.str().find("ROUTE"), std::string::npos) << out.str();
}

TEST(RenderAuditTest, LocalFallbackSaysWhy) {
  Json audit = {{"source", "local"},
                {"warning", "shared audit unavailable: connection refused"},
                {"records",
                 {{{"time", "2026-12-02T14:30:00.000Z"},
                   {"token", "ops"},
                   {"client", "127.0.0.1:5000"},
                   {"method", "PUT"},
                   {"route", "/v1/banner"},
                   {"after", nullptr}}}}};
  std::ostringstream out;
  RenderAudit(audit, out);
  EXPECT_EQ(out.str().rfind("warning: shared audit unavailable", 0), 0u) << out.str();
  EXPECT_NE(out.str().find("/v1/banner"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace tidegate::ctl
