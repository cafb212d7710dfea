#include "maintenance/request_fields.h"

#include "common/hex.h"
#include "common/query_string.h"
#include "maintenance/field_names.h"
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
  common::FormDecode(encoded, scratch);
  return *scratch == plain;
}

}  // namespace

bool QueryHas(std::string_view target, std::string_view name, std::string_view value,
              NameCase name_case) {
  std::string scratch;
  std::string decoded_key;
  std::string php_key;
  std::string_view query = common::QueryOf(target);
  auto same_name = [&](std::string_view key) {
    return name_case == NameCase::kSensitive ? key == name : proxy::EqualsIgnoreCase(key, name);
  };
  auto reading = [&](std::string_view separators) {
    PhpNameReader php;  // one per reading: "x[]" counts in order
    return common::ForEachQueryParam(
        query,
        [&](std::string_view key, std::string_view val) {
          if (NeedsDecoding(key)) {
            common::FormDecode(key, &decoded_key);
            key = decoded_key;
          }
          // PHP reads every name (its "x[]" count), matched or not.
          bool php_differs = php.Read(key, /*multipart=*/false, &php_key);
          if (!same_name(key) && !(php_differs && same_name(php_key))) return false;
          return DecodedEquals(val, value, &scratch);
        },
        separators);
  };
  // Rack (Rails before 7.1), older Python and Go also split at ';': both
  // readings count, so "?x=1;method=invoice" matches method=invoice and
  // "?q=a;b" still matches q="a;b".
  return reading("&") || (query.find(';') != std::string_view::npos && reading("&;"));
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
