#include "banner/hide_rules.h"

#include "state/effective_view.h"

namespace tidegate::banner {
namespace {

void Lower(std::optional<common::TimePoint>* next, const std::optional<common::TimePoint>& t,
           common::TimePoint now) {
  if (next == nullptr || !t || *t <= now) return;
  if (!*next || *t < **next) *next = *t;
}

}  // namespace

HideRules::HideRules(const std::vector<config::FeatureConfig>& features) {
  for (const config::FeatureConfig& f : features) {
    if (f.action == config::FeatureAction::kHide && !f.hide_selector.empty()) {
      features_.push_back(f);
    }
  }
}

std::string HideRules::Render(const state::RuntimeState& state, common::TimePoint now,
                              std::optional<common::TimePoint>* next_change) const {
  std::string rules;
  for (const config::FeatureConfig& f : features_) {
    if (f.maintenance) {
      Lower(next_change, f.maintenance->starts_at, now);
      Lower(next_change, f.maintenance->until, now);
    }
    auto it = state.maintenance.find(f.name);
    if (it != state.maintenance.end()) {
      Lower(next_change, it->second.starts_at, now);
      Lower(next_change, it->second.until, now);
    }
    if (!state::EffectiveMaintenanceOf(f, state, now).active) continue;
    rules += f.hide_selector;
    rules += "{display:none!important}";
  }
  if (rules.empty()) return rules;
  return "<style id=\"tidegate-hide\">" + rules + "</style>";
}

}  // namespace tidegate::banner
