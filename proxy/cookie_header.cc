#include "proxy/cookie_header.h"

#include <string>
#include <vector>

#include "common/ascii.h"

namespace tidegate::proxy {
std::optional<std::string_view> NextCookieValue(std::string_view* rest, std::string_view name) {
  while (!rest->empty()) {
    size_t semi = rest->find(';');
    std::string_view pair = rest->substr(0, semi);
    *rest = semi == std::string_view::npos ? std::string_view() : rest->substr(semi + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (common::TrimOws(pair.substr(0, eq)) != name) continue;
    std::string_view value = common::TrimOws(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return value;
  }
  return std::nullopt;
}

size_t RemoveCookie(HeaderList* headers, std::string_view name) {
  size_t removed = 0;
  std::vector<Header>& fields = headers->mutable_fields();
  for (size_t i = 0; i < fields.size();) {
    Header& field = fields[i];
    // Cheap test first: most requests do not carry the name at all.
    if (!EqualsIgnoreCase(field.name, "cookie") ||
        std::string_view(field.value).find(name) == std::string_view::npos) {
      ++i;
      continue;
    }
    // Each pair keeps its own bytes (with the spaces after the ';' before it).
    std::string_view rest = field.value;
    std::string kept;
    size_t before = removed;
    bool first = true;
    while (true) {
      size_t semi = rest.find(';');
      std::string_view pair = rest.substr(0, semi);
      size_t eq = pair.find('=');
      if (eq != std::string_view::npos && common::TrimOws(pair.substr(0, eq)) == name) {
        ++removed;
      } else {
        if (!first) kept += ';';
        kept.append(pair);
        first = false;
      }
      if (semi == std::string_view::npos) break;
      rest = rest.substr(semi + 1);
    }
    if (removed == before) {
      ++i;
      continue;
    }
    std::string_view trimmed = common::TrimOws(kept);
    if (trimmed.empty() || trimmed == ";") {
      fields.erase(fields.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    // Drop the spaces that stood after a removed first cookie's ';'.
    field.value = kept.substr(kept.find_first_not_of(" \t"));
    ++i;
  }
  return removed;
}

namespace {

// The directives of a Cache-Control value, split on commas outside quoted
// strings, each trimmed; empty ones dropped.
void SplitDirectives(std::string_view value, std::vector<std::string_view>* out) {
  bool quoted = false;
  size_t start = 0;
  for (size_t i = 0; i <= value.size(); ++i) {
    char c = i < value.size() ? value[i] : ',';
    if (quoted) {
      if (c == '\\' && i + 1 < value.size()) {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      std::string_view d = common::TrimOws(value.substr(start, i - start));
      if (!d.empty()) out->push_back(d);
      start = i + 1;
    }
  }
}

// The directive's name: the part before '=', trimmed.
std::string_view DirectiveName(std::string_view directive) {
  return common::TrimOws(directive.substr(0, directive.find('=')));
}

}  // namespace

void MakeCachePrivate(HeaderList* headers) {
  std::vector<std::string_view> directives;
  for (const Header& field : headers->fields()) {
    if (EqualsIgnoreCase(field.name, "cache-control")) SplitDirectives(field.value, &directives);
  }
  for (std::string_view d : directives) {
    // A bare `private` or `no-store` already keeps shared caches out (a
    // field-named `private="…"` does not: it names fields only).
    if (EqualsIgnoreCase(d, "private") || EqualsIgnoreCase(DirectiveName(d), "no-store")) return;
  }
  std::string value = "private";
  for (std::string_view d : directives) {
    std::string_view name = DirectiveName(d);
    if (EqualsIgnoreCase(name, "public") || EqualsIgnoreCase(name, "s-maxage") ||
        EqualsIgnoreCase(name, "private")) {
      continue;
    }
    value += ", ";
    value.append(d);
  }
  headers->Set("Cache-Control", std::move(value));
}

}  // namespace tidegate::proxy
