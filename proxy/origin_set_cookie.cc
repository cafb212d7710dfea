#include "proxy/origin_set_cookie.h"

#include <vector>

#include "common/ascii.h"
#include "common/cookie_names.h"

namespace tidegate::proxy {

std::string_view SetCookieNameSentBack(std::string_view value) {
  std::string_view pair = value.substr(0, value.find(';'));
  size_t eq = pair.find('=');
  std::string_view name = common::TrimOws(pair.substr(0, eq));
  if (!name.empty()) return name;
  // A nameless cookie: the browser sends its value alone.
  std::string_view sent = eq == std::string_view::npos ? pair : pair.substr(eq + 1);
  sent = common::TrimOws(sent);
  return common::TrimOws(sent.substr(0, sent.find('=')));
}

size_t RemoveOwnSetCookies(HeaderList* headers) {
  std::vector<Header>& fields = headers->mutable_fields();
  size_t kept = 0;
  for (size_t i = 0; i < fields.size(); ++i) {
    Header& field = fields[i];
    if (common::EqualsIgnoreCaseLiteral<"set-cookie">(field.name) &&
        common::IsOwnCookieName(SetCookieNameSentBack(field.value))) {
      HeaderList::ReleaseStorage(field);
      continue;
    }
    if (kept != i) fields[kept] = std::move(field);
    ++kept;
  }
  size_t removed = fields.size() - kept;
  fields.resize(kept);
  return removed;
}

}  // namespace tidegate::proxy
