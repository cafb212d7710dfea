// The `hide` action of [features.NAME] (action = "hide", hide_selector =
// "..."): while such a feature is under maintenance
// (state::EffectiveMaintenanceOf: an operator's PUT, or its configured
// window not reopened by a DELETE), HTML pages get
//   <style id="tidegate-hide">SELECTOR{display:none!important}</style>
// right after the opening <body> tag, through the banner's injector
// (banner_filter.h): one rewriter for both. Selectors were checked at load
// (config/css_selector_check.h) so they cannot leave the rule or the element.
//
// Contract: built per configuration snapshot on the control thread; const
// methods are thread-safe (pure functions of their arguments).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/time_source.h"
#include "config/config.h"
#include "state/runtime_state.h"

namespace tidegate::banner {

class HideRules {
 public:
  explicit HideRules(const std::vector<config::FeatureConfig>& features);
  bool empty() const { return features_.empty(); }

  // The <style> element hiding what is hidden at `now`, or "" when nothing
  // is. *next_change (when given) is lowered to the earliest later instant
  // at which the answer may change by itself (a window's start or end, an
  // override's end).
  std::string Render(const state::RuntimeState& state, common::TimePoint now,
                     std::optional<common::TimePoint>* next_change) const;

 private:
  std::vector<config::FeatureConfig> features_;  // the action = "hide" ones
};

}  // namespace tidegate::banner
