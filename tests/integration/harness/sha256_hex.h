// SHA-256 of a text as 64 lowercase hex digits: what [admin].tokens'
// token_sha256 holds for a test's bearer token.
//
// Thread: pure, safe anywhere.
#pragma once

#include <string>

namespace tidegate::itest {

std::string Sha256Hex(const std::string& text);

}  // namespace tidegate::itest
