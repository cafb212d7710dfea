#include "maintenance/method_override.h"

#include "common/ascii.h"
#include "common/query_string.h"

namespace tidegate::maintenance {
namespace {

constexpr std::string_view kOverrideFields[] = {"X-HTTP-Method-Override", "X-HTTP-Method",
                                                "X-Method-Override"};
constexpr std::string_view kOverrideParam = "_method";

bool NamesOneOf(std::string_view value, const std::vector<std::string>& methods) {
  value = common::TrimOws(value);
  for (const std::string& m : methods) {
    if (proxy::EqualsIgnoreCase(value, m)) return true;
  }
  return false;
}

bool HasBody(const proxy::HeaderList& headers) {
  const std::string* length = headers.Find("Content-Length");
  return headers.Find("Transfer-Encoding") != nullptr || (length != nullptr && *length != "0");
}

}  // namespace

OverrideVerdict OverrideNamesMethod(std::string_view method, std::string_view target,
                                    const proxy::HeaderList* headers, const BodyFields* body,
                                    const std::vector<std::string>& methods) {
  if (headers != nullptr) {
    for (const proxy::Header& field : headers->fields()) {
      for (std::string_view name : kOverrideFields) {
        if (proxy::EqualsIgnoreCase(field.name, name) && NamesOneOf(field.value, methods)) {
          return OverrideVerdict::kYes;
        }
      }
    }
  }
  std::string decoded;
  bool in_query = common::ForEachQueryParam(common::QueryOf(target),
                                            [&](std::string_view name, std::string_view value) {
                                              if (name != kOverrideParam) return false;
                                              common::FormDecode(value, &decoded);
                                              return NamesOneOf(decoded, methods);
                                            });
  if (in_query) return OverrideVerdict::kYes;
  if (!proxy::EqualsIgnoreCase(method, "POST") || headers == nullptr || !HasBody(*headers)) {
    return OverrideVerdict::kNo;
  }
  if (body == nullptr) return OverrideVerdict::kNeedsBody;
  return body->FormHasAnyOf(kOverrideParam, methods) ? OverrideVerdict::kYes : OverrideVerdict::kNo;
}

}  // namespace tidegate::maintenance
