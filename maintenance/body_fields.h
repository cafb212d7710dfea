// The request body fields a feature rule may test (`form = {...}`,
// `json = {...}`), read from the first bytes of the body that the proxy
// buffered for the decision (proxy::FilterCallbacks::BufferRequestBody).
//
// * application/x-www-form-urlencoded: name=value pairs, percent-decoded,
//   '+' = space. When the body was cut at the bound, the last (possibly
//   truncated) pair is ignored.
// * application/json (or any "+json" type): parsed with nlohmann::json
//   (no exceptions); a dotted path ("payment.method") walks objects; the
//   value matches a string exactly, or the JSON text of a number, boolean or
//   null ("2", "true"). A JSON body cut at the bound does not parse, so its
//   json rules do not match (the request goes through).
// * Any other content type has no fields.
//
// Contract: built per request on the worker thread; immutable afterwards.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace tidegate::maintenance {

enum class BodyKind { kNone, kForm, kJson };

// The kind of body a Content-Type announces (nullptr = none).
BodyKind BodyKindOf(const std::string* content_type);

class BodyFields {
 public:
  BodyFields(BodyKind kind, std::string body, bool complete);
  bool FormHas(std::string_view name, std::string_view value) const;
  bool JsonHas(std::string_view dotted_path, std::string_view value) const;

 private:
  BodyKind kind_;
  std::string body_;
  bool complete_;
  nlohmann::json json_;  // discarded when not JSON or not parsable
};

}  // namespace tidegate::maintenance
