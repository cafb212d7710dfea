#include "proxy/entity_tag.h"

#include <strings.h>

namespace tidegate::proxy {
namespace {

std::string_view OpaqueTag(std::string_view tag) {
  if (tag.size() >= 2 && tag[0] == 'W' && tag[1] == '/') tag.remove_prefix(2);
  return tag;
}

bool IsOws(char c) { return c == ' ' || c == '\t'; }

}  // namespace

bool IfNoneMatchListsTag(std::string_view field_value, std::string_view etag) {
  const std::string_view want = OpaqueTag(etag);
  size_t i = 0;
  const size_t n = field_value.size();
  while (i < n) {
    while (i < n && (IsOws(field_value[i]) || field_value[i] == ',')) ++i;
    if (i >= n) break;
    size_t start = i;
    if (field_value[i] == '*') {
      ++i;
      while (i < n && IsOws(field_value[i])) ++i;
      if (i >= n || field_value[i] == ',') return true;
    } else {
      if (field_value.compare(i, 2, "W/") == 0) i += 2;
      if (i < n && field_value[i] == '"') {
        size_t close = field_value.find('"', i + 1);
        if (close != std::string_view::npos) {
          std::string_view tag = field_value.substr(start, close + 1 - start);
          i = close + 1;
          while (i < n && IsOws(field_value[i])) ++i;
          if ((i >= n || field_value[i] == ',') && OpaqueTag(tag) == want) return true;
        } else {
          return false;  // an unterminated quote: nothing after it is a tag
        }
      }
    }
    // Not (or not only) an entity-tag: skip to the next element.
    while (i < n && field_value[i] != ',') ++i;
  }
  return false;
}

bool IfNoneMatchHits(const HeaderList& headers, std::string_view etag) {
  for (const Header& field : headers.fields()) {
    if (field.name.size() == 13 && strncasecmp(field.name.c_str(), "If-None-Match", 13) == 0 &&
        IfNoneMatchListsTag(field.value, etag)) {
      return true;
    }
  }
  return false;
}

}  // namespace tidegate::proxy
