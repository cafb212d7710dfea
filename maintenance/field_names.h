// Second readings of a form field name: how PHP names a field, and the
// bracket spelling of a JSON rule's dotted path.
//
// A `form` (or `query`) rule matches a field when the field's name as sent
// (decoded) OR its PHP reading equals the rule's name, so a client cannot
// spell the field so that the origin's PHP reads it and the gate does not
// (docs/maintenance.md, "Field names"). PHP (main/php_variables.c,
// php_register_variable_ex; rfc1867.c for multipart) reads a name thus:
//   * the name ends at its first NUL byte (after percent-decoding);
//   * leading spaces are dropped;
//   * in the base name (before the first '['), ' ' and '.' become '_';
//   * an unclosed '[' in the base name becomes '_' (and ' ', '.', '[' after
//     it too): "shipping[method" is "shipping_method";
//   * each index "[k]" has its leading whitespace skipped ("x[ 0]" is
//     "x[0]"); "[]" appends: the next integer index of that array
//     (one more than the largest integer index seen, else 0);
//   * bytes after a closed index that do not open another one are dropped
//     ("x[a]b" is "x[a]"); an unclosed nested '[' ends the name there.
//   * multipart only: a `name='…'` in single quotes is unquoted.
// An empty base name drops the field (PHP ignores it).
//
// Contract: PhpNameReader is per request (one per body, one per query
// reading), on the worker thread; the functions are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

namespace tidegate::maintenance {

class PhpNameReader {
 public:
  // Reads the next field name of one body or query, in order (the order
  // numbers "x[]"). Returns true and sets *out when PHP's reading differs
  // from `name` (*out is "" when PHP drops the field); false when it is the
  // same (no allocation then). `multipart`: `name` comes from a
  // Content-Disposition parameter (single quotes are unquoted).
  bool Read(std::string_view name, bool multipart, std::string* out);

 private:
  // Next free integer index per array (the name up to its '['). Hashed: a
  // 64 KB body can name thousands of distinct arrays.
  std::unordered_map<std::string, long long> next_index_;
  long long* NextIndex(const std::string& array);
};

// "payment.method" → "payment[method]", the name Rails and PHP give the
// same field in a form body or a query; "method" → "method". Empty when a
// segment is empty ("a..b").
std::string BracketName(std::string_view dotted_path);

// "payment[method]" → "payment.method" (the JSON path Rails' params reads
// for the same name); empty when `name` has no index, an empty index ("x[]"),
// a '.' in a segment, or bytes after the last ']'.
std::string DottedPathOf(std::string_view bracket_name);

}  // namespace tidegate::maintenance
