#include "banner/rewritten_head.h"

#include <string>
#include <vector>

#include "common/ascii.h"

namespace tidegate::banner {
namespace {

bool NameIs(const std::string& name, std::string_view expected) {
  return name.size() == expected.size() && proxy::EqualsIgnoreCase(name, expected);
}

bool Dropped(const std::string& name, std::initializer_list<std::string_view> drop) {
  if (NameIs(name, "Content-MD5") || NameIs(name, "Accept-Ranges")) return true;
  for (std::string_view d : drop) {
    if (NameIs(name, d)) return true;
  }
  return false;
}

void WeakenEtag(std::string& value) {
  bool weak = value.size() >= 2 && (value[0] == 'W' || value[0] == 'w') && value[1] == '/';
  if (!weak) value.insert(0, "W/");
}

}  // namespace

bool FixRewrittenHead(proxy::HeaderList& headers, std::string_view vary_token,
                      std::initializer_list<std::string_view> drop) {
  std::vector<proxy::Header>& fields = headers.mutable_fields();
  size_t kept = 0;
  size_t first_vary = fields.size();
  bool vary_done = false;  // a Vary field has `*` or vary_token
  bool cache_control = false;
  for (size_t i = 0; i < fields.size(); ++i) {
    proxy::Header& h = fields[i];
    if (Dropped(h.name, drop)) continue;
    if (NameIs(h.name, "ETag")) {
      WeakenEtag(h.value);
    } else if (NameIs(h.name, "Vary")) {
      if (first_vary == fields.size()) first_vary = kept;
      vary_done =
          vary_done || proxy::HasToken(h.value, "*") || proxy::HasToken(h.value, vary_token);
    } else if (NameIs(h.name, "Cache-Control")) {
      cache_control = true;
    }
    if (kept != i) fields[kept] = std::move(h);
    ++kept;
  }
  bool has_vary = first_vary != fields.size();
  fields.resize(kept);
  if (!has_vary) {
    headers.Add("Vary", std::string(vary_token));
  } else if (!vary_done) {
    std::string& value = fields[first_vary].value;
    if (!common::TrimOws(value).empty()) value += ", ";
    value += vary_token;
  }
  return cache_control;
}

}  // namespace tidegate::banner
