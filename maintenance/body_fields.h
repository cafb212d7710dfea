// The request body fields a feature rule may test (`form = {...}`,
// `json = {...}`), read from the first bytes of the body that the proxy
// buffered for the decision (proxy::FilterCallbacks::BufferRequestBody).
//
// * application/x-www-form-urlencoded: name=value pairs, percent-decoded,
//   '+' = space. When the body was cut at the bound, the last (possibly
//   truncated) pair is ignored.
// * multipart/form-data: the parts' names and contents
//   (maintenance/multipart_fields.h, strict).
// * application/json (or any "+json" type): the leaves reached through
//   objects (maintenance/json_fields.h, strict: no comments, no trailing
//   bytes, valid UTF-8); a dotted path ("payment.method") names one.
// * Form rules also read the top-level keys of a JSON body (frameworks such
//   as Rails merge them into the same parameters).
//
// Field names (docs/maintenance.md): a form or multipart field also answers
// to the name PHP reads for it (maintenance/field_names.h:
// "shipping.method" is also "shipping_method", "x[]" is "x[0]").
//
// Key case (docs/maintenance.md): form, multipart and JSON keys are compared
// ASCII case-insensitively ("Payment_Method" is "payment_method"), because
// some origin frameworks bind them that way; values are compared exactly.
// A key given twice matches with either value.
//
// Undecided: the gate cannot tell whether the request is the feature when
// the body is not readable (no or another Content-Type, text/plain, two
// Content-Type lines that differ, a Content-Encoding other than identity on
// any line, a charset other than UTF-8/ASCII/Latin-1, a JSON or multipart
// body that does not parse strictly)
// or when a rule's fields were not all found in a body cut at the bound.
// readable() and complete() let the matcher say so; the feature's
// on_undecided then decides (config::FeatureConfig).
//
// Contract: built per request on the worker thread; immutable afterwards.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/http_message.h"

namespace tidegate::maintenance {

enum class BodyKind { kNone, kForm, kJson, kMultipart, kUnknown };

// The kind of body a Content-Type announces: kUnknown for none (nullptr),
// text/plain or any other type the gate does not read.
BodyKind BodyKindOf(const std::string* content_type);

class BodyFields {
 public:
  // `content_type` / `content_encoding`: the request's header values (may
  // be null). An empty, complete body has no fields and is readable.
  BodyFields(const std::string* content_type, const std::string* content_encoding, std::string body,
             bool complete);
  // The Content-Type and Content-Encoding from every line of `headers`:
  // a coding other than identity on any Content-Encoding line, or two
  // Content-Type lines that differ (the origin may read either), make the
  // body unreadable.
  BodyFields(const proxy::HeaderList& headers, std::string body, bool complete);
  // Test shorthand: a body of `kind` (kMultipart needs the full type).
  BodyFields(BodyKind kind, std::string body, bool complete);

  bool readable() const { return readable_; }
  bool complete() const { return complete_; }
  BodyKind kind() const { return kind_; }
  // A form or multipart field (or a JSON body's top-level key) `name`
  // (its name as sent or as PHP reads it, ASCII case-insensitive) with
  // exactly `value`.
  bool FormHas(std::string_view name, std::string_view value) const;
  // The same field with a value equal to one of `values`, ASCII case and
  // surrounding spaces ignored (a method override: "delete" is DELETE).
  bool FormHasAnyOf(std::string_view name, const std::vector<std::string>& values) const;
  // A JSON body's leaf at `dotted_path` with exactly `value`.
  bool JsonHas(std::string_view dotted_path, std::string_view value) const;

 private:
  void Parse(const std::string* content_type, std::string body);
  void ReadPhpNames(bool multipart);

  BodyKind kind_ = BodyKind::kNone;
  bool complete_ = true;
  bool readable_ = true;
  // Form / multipart fields (decoded) or JSON leaves (dotted paths).
  std::vector<std::pair<std::string, std::string>> fields_;
  // (index into fields_, PHP's reading of its name) for the form and
  // multipart names PHP reads differently; usually empty.
  std::vector<std::pair<size_t, std::string>> php_names_;
};

}  // namespace tidegate::maintenance
