// Which features ([features.NAME]) a request belongs to.
//
// All path patterns of all features are compiled once into ONE RE2::Set
// (unanchored: a pattern anchors itself with ^ or $ as the merchant wrote it;
// case-insensitive, see below). Per request: one Set match over the
// normalised path, then only the rules whose path matched — and the rules
// without a path — check their other fields (methods, host, query, header,
// cookie). So the cost is one automaton pass plus the few candidate rules,
// whatever the number of features.
//
// Path policy (docs/maintenance.md, case 44): the path is normalised by
// proxy::NormalizePath (percent-decoded unreserved characters, dot segments
// resolved, repeated slashes collapsed, ";params" dropped, query cut off)
// and matched case-insensitively, so `/Checkout`, `//checkout`,
// `/%63heckout`, `/a/../checkout` and `/checkout;x=1` all match
// "^/checkout". The origin still receives the target as sent.
//
// Contract: Build() on the control thread (config time); the result is
// immutable and Match() is const and thread-safe (RE2::Set::Match is).
#pragma once

#include <re2/set.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "maintenance/body_fields.h"
#include "proxy/http_message.h"

namespace tidegate::maintenance {

// What the matcher reads about one request.
struct MatchInput {
  std::string_view method;           // upper-case
  std::string_view normalized_path;  // proxy::NormalizePath(target)
  std::string_view target;           // as sent (for the query)
  std::string_view host;             // lower-case Host value, may carry ":port"
  const proxy::HeaderList* headers = nullptr;
  // The body's first bytes, once buffered; null before (form/json rules are
  // then undecided, see Match).
  const BodyFields* body = nullptr;
};

class FeatureMatcher {
 public:
  // nullptr and *error when a pattern does not compile (the loader checked
  // them one by one already, so this means RE2::Set refused the whole set,
  // e.g. over its memory budget).
  static std::unique_ptr<FeatureMatcher> Build(const std::vector<config::FeatureConfig>& features,
                                               std::string* error);

  // Appends to *out the indices (into the `features` given to Build, in
  // increasing order, each once) of the features with a rule matching
  // `input`. When `wanted` is not null, only features i with (*wanted)[i]
  // true are examined beyond the path automaton.
  // When input.body is null, a feature whose only matching candidates are
  // rules with form/json fields (every other field matched) is appended to
  // *needs_body instead (when given): it can be decided once the body is read.
  // When input.body is set, a feature whose only candidates could not be
  // decided on it (body not readable, or fields missing from a body cut at
  // the bound: maintenance/body_fields.h) is appended to *undecided (when
  // given). Form fields are also looked for in the query string (names
  // ASCII case-insensitive, as sent or as PHP reads them:
  // maintenance/field_names.h) and, for a bracket name ("payment[method]"),
  // as a JSON body's nested key; a JSON path is also looked for as its
  // bracket name in a form or multipart body and the query string.
  void Match(const MatchInput& input, const std::vector<bool>* wanted, std::vector<size_t>* out,
             std::vector<size_t>* needs_body = nullptr,
             std::vector<size_t>* undecided = nullptr) const;

  size_t feature_count() const { return feature_count_; }
  size_t pattern_count() const { return path_rules_.size(); }

 private:
  struct Rule {
    size_t feature = 0;
    const config::FeatureMatchRule* fields = nullptr;  // points into owned copy
  };
  FeatureMatcher() = default;
  enum class Verdict { kNo, kYes, kNeedsBody, kUndecided };
  static Verdict OtherFieldsMatch(const config::FeatureMatchRule& rule, const MatchInput& input);

  std::vector<config::FeatureConfig> features_;  // owned copy the rules point into
  size_t feature_count_ = 0;
  std::unique_ptr<RE2::Set> set_;  // null when no rule has a path
  std::vector<Rule> path_rules_;   // by Set index
  std::vector<Rule> pathless_rules_;
};

}  // namespace tidegate::maintenance
