#include "queue/cookies.h"

#include <algorithm>
#include <charconv>

#include "common/cookie_names.h"
#include "proxy/cookie_header.h"

namespace tidegate::queue {
namespace {

// The list one thread keeps (a page sends one or two cookies; their
// strings go round through proxy::TakeSpareString).
std::vector<std::string>& KeptList() {
  thread_local std::vector<std::string> list;  // no capacity: none kept
  return list;
}

}  // namespace

std::string TakeCookieString() { return proxy::TakeSpareString(); }

std::vector<std::string> TakeCookieList() { return std::move(KeptList()); }

void RecycleCookieList(std::vector<std::string>&& list) {
  list.clear();  // (strings still holding a buffer free it as before)
  std::vector<std::string>& kept = KeptList();
  if (kept.capacity() == 0) kept = std::move(list);
}

std::string CookieName(CookieKind kind, std::string_view room, bool tls) {
  std::string name(tls ? common::kHostCookiePrefix : std::string_view());
  name += kind == CookieKind::kWait ? common::kWaitCookiePrefix : common::kPassCookiePrefix;
  name += room;
  return name;
}

void AppendCookieAttributes(bool tls, std::optional<int64_t> max_age_seconds, std::string* out) {
  // Put together on the stack and appended once (one append per cookie, not
  // three or four).
  constexpr std::string_view kBase = "; Path=/; HttpOnly; SameSite=Lax";
  constexpr std::string_view kSecure = "; Secure";
  constexpr std::string_view kMaxAge = "; Max-Age=";
  char text[kBase.size() + kSecure.size() + kMaxAge.size() + 24];
  char* at = std::copy(kBase.begin(), kBase.end(), text);
  if (tls) at = std::copy(kSecure.begin(), kSecure.end(), at);
  if (max_age_seconds) {
    at = std::copy(kMaxAge.begin(), kMaxAge.end(), at);
    at = std::to_chars(at, text + sizeof text, *max_age_seconds).ptr;
  }
  out->append(text, static_cast<size_t>(at - text));
}

std::string SetCookieValue(std::string_view name, std::string_view value, bool tls,
                           std::optional<int64_t> max_age_seconds) {
  return SetCookieWith(name, tls, max_age_seconds, value.size(),
                       [value](std::string* out) { out->append(value); });
}

std::string ClearCookieValue(std::string_view name, bool tls) {
  return SetCookieValue(name, "", tls, 0);
}

std::vector<std::string_view> CookieValues(const proxy::HeaderList& headers,
                                           std::string_view name) {
  std::vector<std::string_view> values;
  proxy::ForEachCookie(headers, name, [&](std::string_view v) { values.push_back(v); });
  return values;
}

}  // namespace tidegate::queue
