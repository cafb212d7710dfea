#include "proxy/path_ambiguity.h"

namespace tidegate::proxy {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One segment as read so far: its leading dots, and whether anything but a
// dot came before its parameters.
struct Segment {
  int dots = 0;
  bool other = false;   // a byte other than '.' before any ';'
  bool params = false;  // past a ';' (raw or encoded): the rest is parameters
  bool IsDotSegment() const { return !other && (dots == 1 || dots == 2); }
  void Take(char c) {
    if (params) return;
    if (c == ';') {
      params = true;
    } else if (c == '.' && !other) {
      ++dots;
    } else {
      other = true;
    }
  }
};

}  // namespace

const char* AmbiguousPathReason(std::string_view target) {
  Segment segment;
  for (size_t i = 0; i < target.size(); ++i) {
    char c = target[i];
    if (c == '?' || c == '#') break;
    if (c == '%') {
      int high = i + 2 < target.size() ? HexValue(target[i + 1]) : -1;
      int low = high >= 0 ? HexValue(target[i + 2]) : -1;
      if (low < 0) return "malformed percent-encoding in request path";
      c = static_cast<char>(high * 16 + low);
      i += 2;
      if (c == '\0') return "encoded NUL in request path";
      // A decoded '?' or '#' ends the path for decode-first routers: what
      // follows is still judged here, as part of this segment.
    }
    if (c == '/' || c == '\\') {
      if (segment.IsDotSegment()) return "dot segment in request path";
      segment = Segment{};
      continue;
    }
    segment.Take(c);
  }
  return segment.IsDotSegment() ? "dot segment in request path" : nullptr;
}

}  // namespace tidegate::proxy
