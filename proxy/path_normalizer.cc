#include "proxy/path_normalizer.h"

#include <vector>

#include "common/ascii.h"
#include "common/hex.h"
#include "proxy/byte_scan.h"

namespace tidegate::proxy {
namespace {

bool IsUnreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Decodes unreserved escapes and canonicalises the others; stops at '?'/'#'.
// With `slashes`, encoded slashes and backslashes (and raw '\') become '/'.
std::string DecodeUnreserved(std::string_view in, bool slashes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size() + 1);
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '?' || c == '#') break;
    if (c != '%') {
      out.push_back(slashes && c == '\\' ? '/' : c);
      continue;
    }
    int hi = i + 1 < in.size() ? common::HexDigitValue(in[i + 1]) : -1;
    int lo = i + 2 < in.size() ? common::HexDigitValue(in[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      out += "%25";
      continue;
    }
    unsigned char decoded = static_cast<unsigned char>(hi * 16 + lo);
    if (IsUnreserved(decoded)) {
      out.push_back(static_cast<char>(decoded));
    } else if (slashes && (decoded == '/' || decoded == '\\')) {
      out.push_back('/');
    } else {
      out.push_back('%');
      out.push_back(kHex[hi]);
      out.push_back(kHex[lo]);
    }
    i += 2;
  }
  return out;
}

// The length of the path part of `target` (before '?'/'#') when it is
// already in canonical form: starts with '/', no '%' escape, no repeated
// slash, no "." or ".." segment, and nothing the options would change (';'
// params, '\\', upper case); npos otherwise. The usual shop path: one scan,
// no allocation.
size_t CanonicalPathLength(std::string_view target, const PathNormalizeOptions& options) {
  const size_t n = target.size();
  if (n == 0 || target[0] != '/') return std::string_view::npos;
  const bool params = options.strip_segment_params;
  const bool backslash = options.decode_slashes;
  const bool lower = options.lower_case;
  size_t i = 0;
  if (!lower) {
    // Eight bytes per step while nine can be read (the ninth follows the
    // eighth): a word with no byte that ends or changes the path and no '/'
    // followed by '/' or '.' is canonical as it is. Anything else (and
    // the tail) goes through the byte loop below, from that word on.
    using namespace bytescan;
    const char* p = target.data();
    for (; i + 9 <= n; i += 8) {
      uint64_t v = Load8(p + i);
      if (HasByte(v, '?') || HasByte(v, '#') || HasByte(v, '%') || (params && HasByte(v, ';')) ||
          (backslash && HasByte(v, '\\'))) {
        break;
      }
      uint64_t next = Load8(p + i + 1);  // the byte after each byte of v
      if ((BytesEqual(v, '/') & (BytesEqual(next, '/') | BytesEqual(next, '.'))) != 0) break;
    }
  }
  for (; i < n; ++i) {
    const char c = target[i];
    switch (c) {
      case '?':
      case '#':
        return i;
      case '%':
        return std::string_view::npos;
      case ';':
        if (params) return std::string_view::npos;
        break;
      case '\\':
        if (backslash) return std::string_view::npos;
        break;
      case '/': {
        char next = i + 1 < n ? target[i + 1] : '\0';
        if (next == '/') return std::string_view::npos;  // "//"
        if (next == '.') {                               // "/." or "/.." (and, kept simple, "/...")
          char after = i + 2 < n ? target[i + 2] : '/';
          if (after == '/' || after == '.' || after == '?' || after == '#') {
            return std::string_view::npos;
          }
        }
        break;
      }
      default:
        if (lower && c >= 'A' && c <= 'Z') return std::string_view::npos;
    }
  }
  return n;
}

}  // namespace

std::string NormalizePath(std::string_view target, const PathNormalizeOptions& options) {
  size_t length = CanonicalPathLength(target, options);
  if (length != std::string_view::npos) return std::string(target.substr(0, length));
  return detail::NormalizePathGeneral(target, options);
}

std::string_view NormalizePathView(std::string_view target, std::string* storage,
                                   const PathNormalizeOptions& options) {
  size_t length = CanonicalPathLength(target, options);
  if (length != std::string_view::npos) return target.substr(0, length);
  *storage = detail::NormalizePathGeneral(target, options);
  return *storage;
}

namespace detail {

std::string NormalizePathGeneral(std::string_view target, const PathNormalizeOptions& options) {
  std::string decoded = DecodeUnreserved(target, options.decode_slashes);

  // Split into segments, dropping empty ones (repeated slashes) and resolving
  // dot segments as we go.
  std::vector<std::string_view> segments;
  std::string_view rest(decoded);
  bool trailing_slash = false;  // the last segment names a directory
  while (true) {
    size_t slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    if (options.strip_segment_params) {
      size_t semicolon = segment.find(';');
      if (semicolon != std::string_view::npos) segment = segment.substr(0, semicolon);
    }
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    if (slash == std::string_view::npos) {
      trailing_slash = segment.empty() || segment == "." || segment == "..";
      break;
    }
    rest = rest.substr(slash + 1);
  }

  std::string out;
  out.reserve(decoded.size() + 1);
  for (std::string_view segment : segments) {
    out.push_back('/');
    out.append(segment);
  }
  if (out.empty() || trailing_slash) out.push_back('/');
  if (options.lower_case) {
    for (char& c : out) c = common::AsciiLower(c);
  }
  return out;
}

}  // namespace detail
}  // namespace tidegate::proxy
