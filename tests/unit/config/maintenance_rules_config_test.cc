// Issue 14 keys: [maintenance].decode_slashes, [features.NAME] on_undecided,
// action = "hide" and hide_selector (checked with file:line:col).
#include <gtest/gtest.h>

#include "config/css_selector_check.h"
#include "tests/unit/config/test_helpers.h"

namespace tidegate::config {
namespace {

using testing::AllErrors;
using testing::HasError;
using testing::LoadWithMinimal;

TEST(MaintenanceRulesConfigTest, Defaults) {
  LoadResult result = LoadWithMinimal(R"(
[features.checkout]
match = [{ path = "^/checkout" }]
)");
  ASSERT_TRUE(result.config) << AllErrors(result);
  EXPECT_TRUE(result.config->maintenance.decode_slashes);
  const FeatureConfig& f = result.config->features[0];
  EXPECT_EQ(f.on_undecided, UndecidedPolicy::kBlock);
  EXPECT_EQ(f.action, FeatureAction::kMaintenance);
  EXPECT_TRUE(f.hide_selector.empty());
}

TEST(MaintenanceRulesConfigTest, EveryKeyIsRead) {
  LoadResult result = LoadWithMinimal(R"(
[maintenance]
decode_slashes = false

[features.invoice]
match = [{ path = "^/checkout/pay", form = { method = "invoice" } }]
on_undecided = "pass"

[features.invoice_button]
action = "hide"
hide_selector = "#pay-invoice, .payment-methods > li[data-method='invoice']"
)");
  ASSERT_TRUE(result.config) << AllErrors(result);
  EXPECT_FALSE(result.config->maintenance.decode_slashes);
  ASSERT_EQ(result.config->features.size(), 2u);
  EXPECT_EQ(result.config->features[0].on_undecided, UndecidedPolicy::kPass);
  const FeatureConfig& hide = result.config->features[1];
  EXPECT_EQ(hide.action, FeatureAction::kHide);
  EXPECT_TRUE(hide.match.empty());  // a hidden option needs no request rules
  EXPECT_EQ(hide.hide_selector, "#pay-invoice, .payment-methods > li[data-method='invoice']");
}

TEST(MaintenanceRulesConfigTest, BadValuesNameTheKeyAndPosition) {
  LoadResult result = LoadWithMinimal(R"(
[maintenance]
decode_slashes = "yes"

[features.a]
match = [{ path = "^/a" }]
on_undecided = "allow"
action = "remove"

[features.b]
action = "hide"
hide_selector = "#x{color:red}"

[features.c]
action = "hide"

[features.d]
match = [{ path = "^/d" }]
hide_selector = "#d"

[features.e]
action = "hide"
hide_selector = "#e</style><script>alert(1)</script>"
)");
  EXPECT_FALSE(result.config);
  EXPECT_TRUE(HasError(result, "maintenance.decode_slashes", "")) << AllErrors(result);
  EXPECT_TRUE(HasError(result, "features.a.on_undecided", "is not one of")) << AllErrors(result);
  EXPECT_TRUE(HasError(result, "features.a.action", "is not one of")) << AllErrors(result);
  EXPECT_TRUE(HasError(result, "features.b.hide_selector", "'{' at offset 2")) << AllErrors(result);
  EXPECT_TRUE(HasError(result, "features.c.hide_selector", "needs hide_selector"))
      << AllErrors(result);
  EXPECT_TRUE(HasError(result, "features.d.hide_selector", "only used with action"))
      << AllErrors(result);
  EXPECT_TRUE(HasError(result, "features.e.hide_selector", "'<'")) << AllErrors(result);
  // file:line:col of the selector's value.
  bool positioned = false;
  for (const ConfigError& e : result.errors) {
    if (e.key != "features.b.hide_selector") continue;
    std::string formatted = FormatError(e);
    positioned = formatted.find("main.toml:18:") != std::string::npos;
    EXPECT_TRUE(positioned) << formatted;
  }
  EXPECT_TRUE(positioned);
}

TEST(CssSelectorCheckTest, AcceptsPlainSelectorLists) {
  for (const char* ok : {"#pay-invoice", ".a .b > c + d ~ e", "li[data-method=\"invoice\"]",
                         "a:not(.x), b::before", "[data-x^='a'], [data-y*=b]", "div.été"}) {
    EXPECT_EQ(CheckCssSelector(ok), "") << ok;
  }
}

TEST(CssSelectorCheckTest, RefusesWhatLeavesTheRuleOrTheElement) {
  for (const char* bad :
       {"", "   ", "#a{}", "#a}", "#a;", "#a</style>", "#a/*x*/", "@import 'x'", "#a\\7b",
        "#a !important", "#a\nb", "[data-x='a", "a:not(.x", "a)", "a]", "#a,", ",#a", "& .x"}) {
    EXPECT_NE(CheckCssSelector(bad), "") << bad;
  }
  EXPECT_NE(CheckCssSelector(std::string(1001, 'a')), "");
}

}  // namespace
}  // namespace tidegate::config
