#include "maintenance/feature_matcher.h"

#include <algorithm>

#include "maintenance/field_names.h"
#include "maintenance/method_override.h"
#include "maintenance/request_fields.h"
#include "proxy/path_pattern.h"

namespace tidegate::maintenance {

std::unique_ptr<FeatureMatcher> FeatureMatcher::Build(
    const std::vector<config::FeatureConfig>& features, std::string* error) {
  std::unique_ptr<FeatureMatcher> matcher(new FeatureMatcher());
  matcher->features_ = features;
  matcher->feature_count_ = features.size();
  RE2::Options options = proxy::PathPatternOptions();  // case-insensitive
  options.set_max_mem(int64_t{256} << 20);             // room for the DFA of thousands of patterns
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

FeatureMatcher::Verdict FeatureMatcher::OtherFieldsMatch(const config::FeatureMatchRule& rule,
                                                         const MatchInput& input) {
  // A POST that asks to be run as a gated method (method_override.h) is
  // gated too; a form's `_method` is known once the body is read.
  bool override_in_body = false;
  if (!rule.methods.empty() &&
      std::find(rule.methods.begin(), rule.methods.end(), input.method) == rule.methods.end()) {
    switch (
        OverrideNamesMethod(input.method, input.target, input.headers, input.body, rule.methods)) {
      case OverrideVerdict::kNo:
        return Verdict::kNo;
      case OverrideVerdict::kNeedsBody:
        override_in_body = true;
        break;
      case OverrideVerdict::kYes:
        break;
    }
  }
  if (!rule.host.empty() && HostWithoutPort(input.host) != rule.host) return Verdict::kNo;
  for (const auto& [name, value] : rule.query) {
    if (!QueryHas(input.target, name, value)) return Verdict::kNo;
  }
  if (input.headers == nullptr) {
    if (!rule.header.empty() || !rule.cookie.empty()) return Verdict::kNo;
  } else {
    for (const auto& [name, value] : rule.header) {
      if (!HeaderHas(*input.headers, name, value)) return Verdict::kNo;
    }
    for (const auto& [name, value] : rule.cookie) {
      if (!CookieHas(*input.headers, name, value)) return Verdict::kNo;
    }
  }
  if (rule.form.empty() && rule.json.empty()) {
    return override_in_body ? Verdict::kNeedsBody : Verdict::kYes;
  }
  // Form fields are also read from the query string (PHP's $_REQUEST and
  // Rails merge the two), so a body-less request can match already. A
  // bracket name ("payment[method]") is also the JSON body's nested key, as
  // Rails' params read it.
  auto form_field = [&](const std::string& name, const std::string& value) {
    if (QueryHas(input.target, name, value, NameCase::kInsensitive)) return true;
    if (input.body == nullptr) return false;
    if (input.body->FormHas(name, value)) return true;
    if (input.body->kind() != BodyKind::kJson || name.find('[') == std::string::npos) return false;
    std::string path = DottedPathOf(name);
    return !path.empty() && input.body->JsonHas(path, value);
  };
  // A JSON path is also the same field sent as a form body or a query in
  // bracket notation ("payment[method]=paypal"): Rails' params and PHP's
  // $_POST read both the same way.
  auto json_field = [&](const std::string& path, const std::string& value) {
    std::string bracket = BracketName(path);
    if (!bracket.empty() && QueryHas(input.target, bracket, value, NameCase::kInsensitive)) {
      return true;
    }
    if (input.body == nullptr) return false;
    if (input.body->JsonHas(path, value)) return true;
    return !bracket.empty() && input.body->kind() != BodyKind::kJson &&
           input.body->FormHas(bracket, value);
  };
  bool all = true;
  for (const auto& [name, value] : rule.form) all = all && form_field(name, value);
  for (const auto& [path, value] : rule.json) all = all && json_field(path, value);
  if (all) return override_in_body ? Verdict::kNeedsBody : Verdict::kYes;
  if (input.body == nullptr) return Verdict::kNeedsBody;
  // Not readable, or the missing fields may lie past the bound.
  if (!input.body->readable() || !input.body->complete()) return Verdict::kUndecided;
  return Verdict::kNo;
}

void FeatureMatcher::Match(const MatchInput& input, const std::vector<bool>* wanted,
                           std::vector<size_t>* out, std::vector<size_t>* needs_body,
                           std::vector<size_t>* undecided) const {
  size_t first = out->size();
  auto contains = [](const std::vector<size_t>& v, size_t from, size_t feature) {
    for (size_t i = from; i < v.size(); ++i) {
      if (v[i] == feature) return true;
    }
    return false;
  };
  auto consider = [&](const Rule& rule) {
    if (wanted != nullptr && !(*wanted)[rule.feature]) return;
    if (contains(*out, first, rule.feature)) return;  // one matching rule is enough
    switch (OtherFieldsMatch(*rule.fields, input)) {
      case Verdict::kYes:
        out->push_back(rule.feature);
        break;
      case Verdict::kNeedsBody:
        if (needs_body != nullptr && !contains(*needs_body, 0, rule.feature)) {
          needs_body->push_back(rule.feature);
        }
        break;
      case Verdict::kUndecided:
        if (undecided != nullptr && !contains(*undecided, 0, rule.feature)) {
          undecided->push_back(rule.feature);
        }
        break;
      case Verdict::kNo:
        break;
    }
  };
  if (set_) {
    std::vector<int> hits;
    if (set_->Match(input.normalized_path, &hits)) {
      for (int hit : hits) consider(path_rules_[static_cast<size_t>(hit)]);
    }
  }
  for (const Rule& rule : pathless_rules_) consider(rule);
  std::sort(out->begin() + static_cast<std::ptrdiff_t>(first), out->end());
  // A feature already matched by one rule is neither waiting for its body
  // nor undecided.
  for (std::vector<size_t>* list : {needs_body, undecided}) {
    if (list == nullptr) continue;
    list->erase(std::remove_if(list->begin(), list->end(),
                               [&](size_t f) { return contains(*out, first, f); }),
                list->end());
  }
}

}  // namespace tidegate::maintenance
