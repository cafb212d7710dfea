#include "maintenance/feature_matcher.h"

#include <algorithm>

#include "maintenance/request_fields.h"

namespace tidegate::maintenance {

std::unique_ptr<FeatureMatcher> FeatureMatcher::Build(
    const std::vector<config::FeatureConfig>& features, std::string* error) {
  std::unique_ptr<FeatureMatcher> matcher(new FeatureMatcher());
  matcher->features_ = features;
  matcher->feature_count_ = features.size();
  RE2::Options options;
  options.set_case_sensitive(false);  // path policy: /Checkout is /checkout
  options.set_log_errors(false);
  options.set_max_mem(int64_t{256} << 20);  // room for the DFA of thousands of patterns
  auto set = std::make_unique<RE2::Set>(options, RE2::UNANCHORED);
  for (size_t f = 0; f < matcher->features_.size(); ++f) {
    for (const config::FeatureMatchRule& rule : matcher->features_[f].match) {
      if (rule.path.empty()) {
        matcher->pathless_rules_.push_back(Rule{f, &rule});
        continue;
      }
      std::string problem;
      if (set->Add(rule.path, &problem) < 0) {
        *error =
            "features." + matcher->features_[f].name + ": path \"" + rule.path + "\": " + problem;
        return nullptr;
      }
      matcher->path_rules_.push_back(Rule{f, &rule});
    }
  }
  if (!matcher->path_rules_.empty()) {
    if (!set->Compile()) {
      *error = "the path patterns of [features] could not be compiled together (too large)";
      return nullptr;
    }
    matcher->set_ = std::move(set);
  }
  return matcher;
}

bool FeatureMatcher::OtherFieldsMatch(const config::FeatureMatchRule& rule,
                                      const MatchInput& input) {
  if (!rule.methods.empty() &&
      std::find(rule.methods.begin(), rule.methods.end(), input.method) == rule.methods.end()) {
    return false;
  }
  if (!rule.host.empty() && HostWithoutPort(input.host) != rule.host) return false;
  for (const auto& [name, value] : rule.query) {
    if (!QueryHas(input.target, name, value)) return false;
  }
  if (input.headers == nullptr) {
    return rule.header.empty() && rule.cookie.empty();
  }
  for (const auto& [name, value] : rule.header) {
    if (!HeaderHas(*input.headers, name, value)) return false;
  }
  for (const auto& [name, value] : rule.cookie) {
    if (!CookieHas(*input.headers, name, value)) return false;
  }
  // form / json rules are refused by the loader (no request body buffering yet).
  return rule.form.empty() && rule.json.empty();
}

void FeatureMatcher::Match(const MatchInput& input, const std::vector<bool>* wanted,
                           std::vector<size_t>* out) const {
  size_t first = out->size();
  auto consider = [&](const Rule& rule) {
    if (wanted != nullptr && !(*wanted)[rule.feature]) return;
    // Already in: a feature needs one matching rule.
    for (size_t i = first; i < out->size(); ++i) {
      if ((*out)[i] == rule.feature) return;
    }
    if (OtherFieldsMatch(*rule.fields, input)) out->push_back(rule.feature);
  };
  if (set_) {
    std::vector<int> hits;
    if (set_->Match(input.normalized_path, &hits)) {
      for (int hit : hits) consider(path_rules_[static_cast<size_t>(hit)]);
    }
  }
  for (const Rule& rule : pathless_rules_) consider(rule);
  std::sort(out->begin() + static_cast<std::ptrdiff_t>(first), out->end());
}

}  // namespace tidegate::maintenance
