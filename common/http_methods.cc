#include "common/http_methods.h"

#include <llhttp.h>

namespace tidegate::common {

static_assert(kLastKnownMethod == HTTP_SOURCE);
static_assert(kConnectMethod == HTTP_CONNECT);

std::string_view KnownMethodName(int m) {
  if (m < 0 || m > kLastKnownMethod) return {};
  return llhttp_method_name(static_cast<llhttp_method_t>(m));
}

bool IsKnownMethod(std::string_view method) {
  for (int m = 0; m <= kLastKnownMethod; ++m) {
    if (KnownMethodName(m) == method) return true;
  }
  return false;
}

bool IsForwardedMethod(std::string_view method) {
  return IsKnownMethod(method) && method != KnownMethodName(kConnectMethod);
}

}  // namespace tidegate::common
