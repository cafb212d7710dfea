// The request methods tidegate forwards: one list for the proxy (which
// answers 501 to any other method token and 400 to CONNECT) and for the
// configuration (a feature rule naming another method could never match).
//
// The list is llhttp's HTTP methods 0..HTTP_SOURCE, the methods http_parser
// 2.9 knew (proxy/http1_callbacks.cc kLastKnownMethod); llhttp's RTSP
// methods, PRI and later additions are not in it.
//
// Contract: pure functions, thread-safe, no allocation.
#pragma once

#include <string_view>

namespace tidegate::common {

// Numbers of the methods in llhttp's llhttp_method_t: 0..kLastKnownMethod.
inline constexpr int kLastKnownMethod = 33;  // HTTP_SOURCE (checked in http_methods.cc)
inline constexpr int kConnectMethod = 5;     // HTTP_CONNECT: parsed, then refused with 400

// The name of method number `m` (0..kLastKnownMethod), upper case.
std::string_view KnownMethodName(int m);

// True when `method` (case-sensitive, as on the request line) is one of the
// known methods, CONNECT included.
bool IsKnownMethod(std::string_view method);

// True when a request with `method` can reach the origin: a known method
// other than CONNECT.
bool IsForwardedMethod(std::string_view method);

}  // namespace tidegate::common
