#include "common/ascii.h"

#include <array>

namespace tidegate::common {
namespace {

// A table, not AsciiLower's two compares: header lookups call
// EqualsIgnoreCase for every field of every request.
constexpr std::array<unsigned char, 256> MakeLowerTable() {
  std::array<unsigned char, 256> table{};
  for (int i = 0; i < 256; ++i)
    table[i] = static_cast<unsigned char>(AsciiLower(static_cast<char>(i)));
  return table;
}
constexpr std::array<unsigned char, 256> kLower = MakeLowerTable();

}  // namespace

bool EqualsIgnoreCaseN(const char* a, const char* b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (kLower[static_cast<unsigned char>(a[i])] != kLower[static_cast<unsigned char>(b[i])]) {
      return false;
    }
  }
  return true;
}

}  // namespace tidegate::common
