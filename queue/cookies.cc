#include "queue/cookies.h"

#include <algorithm>
#include <charconv>

#include "proxy/cookie_header.h"

namespace tidegate::queue {
namespace {

// What one thread keeps (bounded: a page sends one or two cookies).
struct CookiePool {
  static constexpr size_t kMaxStrings = 2;
  std::vector<std::string> strings;
  std::vector<std::string> list;  // no capacity: none kept
};

CookiePool& Pool() {
  thread_local CookiePool pool;
  return pool;
}

}  // namespace

std::string TakeCookieString() {
  std::string s;  // one return object (no move of a temporary)
  std::vector<std::string>& strings = Pool().strings;
  if (!strings.empty()) {
    s = std::move(strings.back());
    strings.pop_back();
  }
  return s;
}

std::vector<std::string> TakeCookieList() { return std::move(Pool().list); }

void RecycleCookieList(std::vector<std::string>&& list) {
  CookiePool& pool = Pool();
  for (std::string& s : list) {
    if (s.capacity() <= std::string().capacity()) continue;  // inline: nothing to keep
    if (pool.strings.size() == CookiePool::kMaxStrings) break;
    if (pool.strings.capacity() == 0) pool.strings.reserve(CookiePool::kMaxStrings);
    s.clear();
    pool.strings.push_back(std::move(s));
  }
  list.clear();
  if (pool.list.capacity() == 0) pool.list = std::move(list);
}

std::string CookieName(CookieKind kind, std::string_view room, bool tls) {
  std::string name = tls ? "__Host-" : "";
  name += kind == CookieKind::kWait ? "tg_wait_" : "tg_pass_";
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
