#include "maintenance/request_fields.h"

#include "common/hex.h"
#include "common/query_string.h"
#include "proxy/cookie_header.h"

namespace tidegate::maintenance {
namespace {

bool NeedsDecoding(std::string_view text) {
  return text.find_first_of("%+") != std::string_view::npos;
}

// Compares the form-decoded `encoded` with `plain` without allocating when
// nothing is encoded.
bool DecodedEquals(std::string_view encoded, std::string_view plain, std::string* scratch) {
  if (!NeedsDecoding(encoded)) return encoded == plain;
  FormDecode(encoded, scratch);
  return *scratch == plain;
}

}  // namespace

void FormDecode(std::string_view text, std::string* out) {
  out->clear();
  out->reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out->push_back(' ');
    } else if (c == '%' && i + 2 < text.size() && common::HexDigitValue(text[i + 1]) >= 0 &&
               common::HexDigitValue(text[i + 2]) >= 0) {
      out->push_back(static_cast<char>(common::HexDigitValue(text[i + 1]) * 16 +
                                       common::HexDigitValue(text[i + 2])));
      i += 2;
    } else {
      out->push_back(c);
    }
  }
}

bool QueryHas(std::string_view target, std::string_view name, std::string_view value) {
  std::string scratch;
  std::string_view query = common::QueryOf(target);
  auto has = [&](std::string_view key, std::string_view val) {
    return DecodedEquals(key, name, &scratch) && DecodedEquals(val, value, &scratch);
  };
  // Rack (Rails before 7.1), older Python and Go also split at ';': both
  // readings count, so "?x=1;method=invoice" matches method=invoice and
  // "?q=a;b" still matches q="a;b".
  return common::ForEachQueryParam(query, has) ||
         (query.find(';') != std::string_view::npos && common::ForEachQueryParam(query, has, "&;"));
}

bool CookieHas(const proxy::HeaderList& headers, std::string_view name, std::string_view value) {
  return proxy::ForEachCookie(headers, name, [&](std::string_view v) { return v == value; });
}

bool HeaderHas(const proxy::HeaderList& headers, std::string_view name, std::string_view value) {
  for (const proxy::Header& field : headers.fields()) {
    if (field.value == value && proxy::EqualsIgnoreCase(field.name, name)) return true;
  }
  return false;
}

std::string_view HostWithoutPort(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  size_t colon = host.rfind(':');
  if (colon != std::string_view::npos) host = host.substr(0, colon);
  // "shop.example." is the same (fully qualified) name as "shop.example".
  if (host.size() > 1 && host.back() == '.') host.remove_suffix(1);
  return host;
}

}  // namespace tidegate::maintenance
