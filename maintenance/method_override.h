// Method overrides: the method an origin framework may dispatch a request as
// instead of its own (Rack::MethodOverride, Laravel, Symfony's
// http_method_override, Express method-override, API gateways). A rule that
// gates some methods only (DELETE on /api/returns/) must gate the POST that
// asks to be run as one (audit 15): the gate matches a rule's `methods`
// against the request's method and against every override it carries.
//
// Read as those frameworks read them (method names compared without case):
// * the X-HTTP-Method-Override, X-HTTP-Method and X-Method-Override fields,
//   on any request;
// * a `_method` query parameter, on any request;
// * a `_method` form field (or a JSON body's top-level key), on a POST with
//   a body: known only once the body is buffered.
//
// Contract: pure function, thread-safe; allocates only to decode a query
// value that is percent-encoded.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "maintenance/body_fields.h"
#include "proxy/http_message.h"

namespace tidegate::maintenance {

enum class OverrideVerdict {
  kNo,         // no override names one of the methods
  kYes,        // one does
  kNeedsBody,  // none so far; a POST's form body may still (body not buffered yet)
};

// `methods` upper-case; `body` null while the body is not buffered.
OverrideVerdict OverrideNamesMethod(std::string_view method, std::string_view target,
                                    const proxy::HeaderList* headers, const BodyFields* body,
                                    const std::vector<std::string>& methods);

}  // namespace tidegate::maintenance
