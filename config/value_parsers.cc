#include "config/value_parsers.h"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>
#include <limits>

#include "common/ascii.h"

namespace tidegate::config {
namespace {

// Leading decimal digits of `text` as a number; `rest` gets what follows.
std::optional<uint64_t> LeadingNumber(std::string_view text, std::string_view* rest) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return std::nullopt;
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + digits, value);
  if (ec != std::errc()) return std::nullopt;
  *rest = text.substr(digits);
  return value;
}

}  // namespace

std::optional<Duration> ParseDuration(std::string_view text, std::string* error) {
  static constexpr char kExpected[] =
      "expected a duration: a whole number and a unit ms, s, m or h, like \"250ms\", \"30s\", "
      "\"5m\", \"1h\"";
  std::string_view unit;
  std::optional<uint64_t> number = LeadingNumber(text, &unit);
  if (!number) {
    *error = kExpected;
    return std::nullopt;
  }
  uint64_t per_unit = 0;
  if (unit == "ms") {
    per_unit = 1;
  } else if (unit == "s") {
    per_unit = 1000;
  } else if (unit == "m") {
    per_unit = 60'000;
  } else if (unit == "h") {
    per_unit = 3'600'000;
  } else {
    *error = kExpected;
    return std::nullopt;
  }
  // Caps at ~10 years; the callers' ranges are far smaller.
  if (*number > 315'360'000'000ull / per_unit) {
    *error = "duration is too long";
    return std::nullopt;
  }
  return Duration(static_cast<int64_t>(*number * per_unit));
}

std::optional<Duration> ParseDelay(std::string_view text, std::string* error) {
  std::string_view unit;
  std::optional<uint64_t> days = LeadingNumber(text, &unit);
  if (days && unit == "d") {
    if (*days > 3650) {
      *error = "delay is too long";
      return std::nullopt;
    }
    return Duration(static_cast<int64_t>(*days) * 86'400'000);
  }
  std::optional<Duration> d = ParseDuration(text, error);
  if (!d)
    *error = "expected a delay: a whole number and a unit ms, s, m, h or d, like \"30m\", \"2d\"";
  return d;
}

std::string FormatDuration(Duration d) {
  int64_t ms = d.count();
  if (ms % 3'600'000 == 0 && ms != 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0 && ms != 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::optional<uint64_t> ParseSize(std::string_view text, std::string* error) {
  static constexpr char kExpected[] =
      "expected a size: a whole number of bytes, optionally with a unit B, KB, MB or GB, like "
      "\"512KB\" or \"16MB\"";
  std::string_view unit;
  std::optional<uint64_t> number = LeadingNumber(text, &unit);
  if (!number) {
    *error = kExpected;
    return std::nullopt;
  }
  uint64_t multiplier = 0;
  if (unit.empty() || common::EqualsIgnoreCase(unit, "b")) {
    multiplier = 1;
  } else if (common::EqualsIgnoreCase(unit, "kb") || common::EqualsIgnoreCase(unit, "kib")) {
    multiplier = uint64_t{1} << 10;
  } else if (common::EqualsIgnoreCase(unit, "mb") || common::EqualsIgnoreCase(unit, "mib")) {
    multiplier = uint64_t{1} << 20;
  } else if (common::EqualsIgnoreCase(unit, "gb") || common::EqualsIgnoreCase(unit, "gib")) {
    multiplier = uint64_t{1} << 30;
  } else {
    *error = kExpected;
    return std::nullopt;
  }
  if (*number > std::numeric_limits<uint64_t>::max() / multiplier) {
    *error = "size is too large";
    return std::nullopt;
  }
  return *number * multiplier;
}

namespace {

// RFC 1123 host name: dot-separated labels of [A-Za-z0-9-], 1..63 bytes each,
// not starting or ending with '-', 253 bytes at most; not all digits and dots
// (that is a malformed IPv4 literal, reported as such).
bool IsHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  bool all_numeric = true;
  size_t label = 0;
  for (size_t i = 0; i <= host.size(); ++i) {
    if (i == host.size() || host[i] == '.') {
      if (label == 0 || label > 63 || host[i - 1] == '-') return false;
      label = 0;
      continue;
    }
    char c = host[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    if (c == '-' && label == 0) return false;
    if (!std::isdigit(static_cast<unsigned char>(c))) all_numeric = false;
    ++label;
  }
  return !all_numeric;
}

}  // namespace

std::optional<Address> ParseAddress(std::string_view text, const AddressRules& rules,
                                    std::string* error) {
  Address address;
  address.text = std::string(text);
  if (text.substr(0, 5) == "unix:") {
    if (!rules.allow_unix) {
      *error = "unix sockets are not accepted here; expected \"IP:port\"";
      return std::nullopt;
    }
    std::string_view path = text.substr(5);
    if (path.empty() || path[0] != '/') {
      *error = "expected \"unix:/absolute/path\"";
      return std::nullopt;
    }
    // sockaddr_un.sun_path is 108 bytes including the terminating NUL.
    if (path.size() > 107) {
      *error = "unix socket path is longer than 107 bytes";
      return std::nullopt;
    }
    address.unix_path = std::string(path);
    return address;
  }
  const std::string expected = rules.allow_unix
                                   ? "expected \"IPv4:port\", \"[IPv6]:port\" or \"unix:/path\""
                                   : "expected \"IPv4:port\" or \"[IPv6]:port\"";
  // A URL where an address belongs (nginx's `proxy_pass http://…` habit).
  if (size_t scheme = text.find("://"); scheme != std::string_view::npos) {
    *error = expected + ", without a scheme: \"" + std::string(text.substr(scheme + 3)) +
             "\" rather than \"" + std::string(text) + "\"";
    return std::nullopt;
  }
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      *error = expected;
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    in6_addr v6;
    if (!inet_pton(AF_INET6, std::string(host).c_str(), &v6)) {
      *error = "\"" + std::string(host) + "\" is not an IPv6 address";
      return std::nullopt;
    }
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      *error = expected + " (the port is missing)";
      return std::nullopt;
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      *error = "IPv6 addresses need brackets: \"[::1]:8080\"";
      return std::nullopt;
    }
    in_addr v4;
    if (rules.allow_host_names && IsHostName(host)) {
      // A DNS name (checked for shape only; resolved later, by proxy/).
    } else if (!inet_pton(AF_INET, std::string(host).c_str(), &v4)) {
      std::string message(1, '"');  // built locally: GCC 12 warns falsely (-Wrestrict) otherwise
      message.append(host).append(rules.allow_host_names
                                      ? "\" is neither an IP address nor a host name"
                                      : "\" is not an IP address; host names are accepted only "
                                        "in [upstream].servers, write an IP literal such as "
                                        "127.0.0.1");
      *error = std::move(message);
      return std::nullopt;
    }
  }
  std::string_view rest;
  std::optional<uint64_t> port = LeadingNumber(port_text, &rest);
  if (!port || !rest.empty() || *port > 65535) {
    *error = "port must be a number from 1 to 65535";
    return std::nullopt;
  }
  if (*port == 0 && !rules.allow_port_zero) {
    *error =
        "port 0 is not supported: give a port from 1 to 65535 (a port the kernel picks could "
        "not be found by clients or by `tidegate ctl`)";
    return std::nullopt;
  }
  address.host = std::string(host);
  address.port = static_cast<uint16_t>(*port);
  return address;
}

std::optional<std::string> ParseHostWithoutPort(std::string_view text, bool allow_ip6_literal,
                                                std::string* error) {
  constexpr char kNoPort[] = "host takes no port: rules compare the Host header without its port";
  auto fail = [&](const std::string& why) -> std::optional<std::string> {
    // Built with append(): GCC 12 warns falsely (-Wrestrict) on `"x" + std::string`.
    error->assign(1, '"').append(text).append("\": ").append(why);
    return std::nullopt;
  };
  if (text.empty()) return fail("expected a host name such as \"shop.example\"");
  std::string host(text);
  for (char& c : host) {
    c = common::AsciiLower(c);
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' &&
        c != ':' && c != '[' && c != ']') {
      return fail(std::string("'") + c +
                  "' cannot appear in a host name (letters, digits, '-', '_' and '.'; no "
                  "scheme, no path)");
    }
  }
  if (host.front() == '[' || host.find(']') != std::string::npos) {
    size_t close = host.find(']');
    if (host.front() != '[' || close == std::string::npos ||
        host.find('[', 1) != std::string::npos || host.find(']', close + 1) != std::string::npos) {
      return fail("unbalanced brackets; an IPv6 address is written \"[2001:db8::1]\"");
    }
    if (close + 1 < host.size()) {
      return host[close + 1] == ':' ? fail(kNoPort) : fail("text after ']'");
    }
    if (!allow_ip6_literal) return fail("write an IPv6 address without brackets");
    in6_addr v6;
    if (inet_pton(AF_INET6, host.substr(1, close - 1).c_str(), &v6) != 1) {
      return fail("not an IPv6 address between the brackets");
    }
    return host;
  }
  if (size_t colon = host.rfind(':'); colon != std::string::npos) {
    std::string_view after = std::string_view(host).substr(colon + 1);
    bool digits = after.find_first_not_of("0123456789") == std::string_view::npos;
    if (host.find(':') == colon && digits) return fail(kNoPort);  // also a bare trailing ':'
    in6_addr v6;
    if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
      return allow_ip6_literal ? fail("an IPv6 address needs brackets: \"[" + host + "]\"") : host;
    }
    return fail(kNoPort);
  }
  if (host.size() > 1 && host.back() == '.') host.pop_back();  // the fully qualified spelling
  if (host.size() > 253) return fail("longer than 253 bytes");
  if (host.front() == '.' || host.find("..") != std::string::npos || host.back() == '.') {
    return fail("empty label ('..', or a leading dot); no Host header carries it");
  }
  return host;
}

bool IsValidName(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

bool IsHttpToken(std::string_view text) {
  if (text.empty()) return false;
  static constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && kSpecials.find(c) == std::string_view::npos)
      return false;
  }
  return true;
}

std::optional<std::chrono::system_clock::time_point> ToTimePoint(const OffsetDateTime& t,
                                                                 std::string* error) {
  if (t.year < 1970 || t.year > 2200) {
    *error = "year must be between 1970 and 2200";
    return std::nullopt;
  }
  using namespace std::chrono;
  sys_days day{year{t.year} / month{t.month} / t.day};
  return time_point_cast<system_clock::duration>(day + hours{t.hour} + minutes{t.minute} +
                                                 seconds{t.second} + nanoseconds{t.nanosecond} -
                                                 minutes{t.offset_minutes});
}

}  // namespace tidegate::config
