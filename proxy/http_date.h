// The Date header field a worker adds to the responses it sends (RFC 9110
// §6.6.1): its own local replies, and forwarded responses whose origin sent
// none. The value (IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT") is
// formatted once per second, as nginx does, not per response.
//
// Contract: one HttpDate per worker, used on that worker's thread only (no
// lock). Line() reads CLOCK_REALTIME_COARSE (a vDSO read: no system call,
// no lock) and returns a view that stays valid until the next call to
// Line()/ForSecond().
#pragma once

#include <cstdint>
#include <string_view>

namespace tidegate::proxy {

class HttpDate {
 public:
  // Length of an IMF-fixdate value.
  static constexpr size_t kValueSize = 29;
  // Writes the IMF-fixdate of `seconds` since the Unix epoch (UTC) into
  // `out` (kValueSize bytes, no terminator). Independent of the locale.
  static void Format(int64_t seconds, char* out);

  // "Date: <IMF-fixdate>\r\n" for the current second.
  std::string_view Line();
  // The same for an explicit time (tests; Line() uses it).
  std::string_view ForSecond(int64_t seconds);

 private:
  static constexpr size_t kPrefixSize = 6;  // "Date: "
  int64_t second_ = -1;
  char line_[kPrefixSize + kValueSize + 2] = {'D', 'a', 't', 'e', ':', ' '};
};

}  // namespace tidegate::proxy
