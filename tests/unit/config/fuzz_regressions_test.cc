// Inputs found by fuzz/fuzz_config.cc (scripts/fuzz.sh) that once broke the
// loader; each crashing input is also kept in fuzz/corpus/config/.
#include <gtest/gtest.h>

#include "config/loader.h"
#include "config/value_parsers.h"
#include "tests/unit/config/test_helpers.h"

namespace tidegate::config {
namespace {

using testing::AllErrors;
using testing::HasError;
using testing::LoadWithMinimal;

// A window starting in year 4052 overflowed system_clock's 64-bit
// nanoseconds (undefined behaviour; UBSan stopped the fuzzer).
TEST(ConfigFuzzRegressionTest, FarFutureWindowIsAnErrorNotAnOverflow) {
  LoadResult result = LoadWithMinimal(R"(
[features.gift_cards]
match = [{ path = "^/gift-cards" }]
maintenance = { starts_at = 4052-12-01T02:00:00Z, until = 2026-12-01T04:00:00Z }
)");
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(HasError(result, "features.gift_cards.maintenance.starts_at",
                       "year must be between 1970 and 2200"))
      << AllErrors(result);
}

TEST(ConfigFuzzRegressionTest, TimePointRangeIsChecked) {
  std::string error;
  EXPECT_FALSE(ToTimePoint({9999, 12, 31, 23, 59, 59, 0, 0}, &error));
  EXPECT_EQ(error, "year must be between 1970 and 2200");
  EXPECT_FALSE(ToTimePoint({1, 1, 1, 0, 0, 0, 0, 0}, &error));
  auto ok = ToTimePoint({2026, 12, 1, 3, 0, 0, 0, 60}, &error);  // 03:00+01:00
  ASSERT_TRUE(ok);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(ok->time_since_epoch()).count(),
            1'796'090'400);
}

}  // namespace
}  // namespace tidegate::config
