// The fields of a multipart/form-data body (RFC 7578), read strictly so that
// the maintenance gate sees what the origin's form parser sees — or knows
// that it cannot tell.
//
// The parser is bounded by its input (the first [maintenance].max_body_bytes
// of the body, already in memory): no allocation beyond the fields found, no
// recursion. It accepts only the plain shape browsers send:
//   [preamble CRLF] "--" boundary [LWSP] CRLF
//   headers CRLF CRLF content CRLF "--" boundary ... "--" boundary "--"
// and refuses (kMalformed) anything a lenient origin parser might read
// differently: bare-LF line ends, a part without `Content-Disposition:
// form-data; name=...`, a repeated header or parameter, `name*=` (RFC 5987),
// a Content-Transfer-Encoding other than 7bit/8bit/binary, header lines
// longer than 8 KiB, more than 1000 parts. A body cut at the bound yields
// the parts that ended before the cut (kTruncated).
//
// No Debian package parses multipart/form-data for C++ without pulling a
// framework in (GMime reads e-mail MIME on GLib and does not apply RFC 7578's
// rules), hence this small parser.
//
// Contract: pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tidegate::maintenance {

// The boundary parameter of a multipart/form-data Content-Type value
// ("multipart/form-data; boundary=xyz" or boundary="x y z"); nullopt when
// absent, empty, longer than 70 bytes or given twice.
std::optional<std::string> MultipartBoundary(std::string_view content_type);

enum class MultipartResult { kComplete, kTruncated, kMalformed };

// Appends (name, value) of each part to *fields, in order. `complete` says
// whether `body` is the whole body (false: cut at the bound).
MultipartResult ParseMultipartFields(std::string_view body, std::string_view boundary,
                                     bool complete,
                                     std::vector<std::pair<std::string, std::string>>* fields);

}  // namespace tidegate::maintenance
