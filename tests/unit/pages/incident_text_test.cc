#include "pages/incident_text.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include "common/rfc3339.h"

namespace tidegate::pages {
namespace {

WallTime At(const char* rfc3339) { return *common::ParseRfc3339(rfc3339); }

class ZoneTest : public ::testing::Test {
 protected:
  void SetZone(const char* zone) {
    setenv("TZ", zone, 1);
    tzset();
  }
  void TearDown() override { SetZone("UTC"); }
};

TEST_F(ZoneTest, TimesCarryTheShopZone) {
  SetZone("Europe/Paris");
  WallTime winter = At("2026-12-05T13:30:00Z");
  EXPECT_EQ(ZoneAbbreviation(winter), "CET");
  EXPECT_EQ(FormatClockOrDateWithZone(winter, winter, Language::kEnglish), "14:30 CET");
  EXPECT_EQ(ZoneAbbreviation(At("2026-07-05T13:30:00Z")), "CEST");
  EXPECT_EQ(FormatClockOrDateWithZone(At("2026-12-06T08:00:00Z"), winter, Language::kFrench),
            "6 déc. 09:00 CET");
  EXPECT_EQ(FormatDateTimeWithZone(winter, Language::kEnglish), "5 Dec 2026 14:30 CET");
  // Another year says which (audit 16 F8: a promise for 2099 read as
  // "1 Jan 01:00", next month's).
  EXPECT_EQ(FormatClockOrDateWithZone(At("2099-01-01T00:00:00Z"), winter, Language::kEnglish),
            "1 Jan 2099 01:00 CET");
  EXPECT_EQ(FormatClockOrDateWithZone(At("2027-01-02T08:00:00Z"), winter, Language::kFrench),
            "2 janv. 2027 09:00 CET");
  SetZone("UTC");
  EXPECT_EQ(FormatClockOrDateWithZone(winter, winter, Language::kEnglish), "13:30 UTC");
  // A zone whose abbreviation is only numbers still names UTC.
  SetZone("America/Sao_Paulo");
  EXPECT_EQ(ZoneAbbreviation(winter), "UTC-03");
}

TEST_F(ZoneTest, NextUpdateIsAPromiseOrALateUpdate) {
  SetZone("Europe/Paris");
  WallTime next = At("2026-12-05T13:30:00Z");
  EXPECT_EQ(NextUpdateText(next, At("2026-12-05T13:00:00Z"), Language::kEnglish),
            "Next update at 14:30 CET");
  EXPECT_EQ(NextUpdateText(next, At("2026-12-05T13:00:00Z"), Language::kFrench),
            "Prochaine mise à jour à 14:30 CET");
  EXPECT_FALSE(UpdateLate(next, next));
  EXPECT_TRUE(UpdateLate(next, At("2026-12-05T13:31:00Z")));
  EXPECT_EQ(NextUpdateText(next, At("2026-12-05T13:31:00Z"), Language::kEnglish),
            "Update is late: it was expected at 14:30 CET");
  EXPECT_EQ(NextUpdateText(next, At("2026-12-05T13:31:00Z"), Language::kFrench),
            "La mise à jour est en retard : elle était attendue à 14:30 CET");
}

TEST(IncidentTextTest, LabelsInBothLanguages) {
  EXPECT_EQ(ImpactLabel("partial_outage", Language::kEnglish), "Partial outage");
  EXPECT_EQ(ImpactLabel("major_outage", Language::kFrench), "Panne majeure");
  EXPECT_EQ(ImpactLabel("operational", Language::kFrench), "Opérationnel");
  EXPECT_EQ(IncidentStatusLabel("monitoring", Language::kEnglish), "Monitoring");
  EXPECT_EQ(IncidentStatusLabel("identified", Language::kFrench), "Cause identifiée");
  EXPECT_EQ(IncidentStatusLabel("unknown", Language::kFrench), "unknown");
  EXPECT_EQ(StatusLinkLabel(Language::kFrench), "État du service");
}

}  // namespace
}  // namespace tidegate::pages
