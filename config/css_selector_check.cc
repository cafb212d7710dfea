#include "config/css_selector_check.h"

#include <cctype>
#include <vector>

namespace tidegate::config {
namespace {

constexpr size_t kMaxSelector = 1000;

bool Allowed(unsigned char c) {
  if (c >= 0x80 || std::isalnum(c)) return true;
  static constexpr std::string_view kPunctuation = " -_.#[]=~^$*|:(),>+'\"";
  return kPunctuation.find(static_cast<char>(c)) != std::string_view::npos;
}

std::string Describe(unsigned char c) {
  if (c < 0x20 || c == 0x7f) return "a control character";
  return std::string("'") + static_cast<char>(c) + "'";
}

}  // namespace

std::string CheckCssSelector(std::string_view selector) {
  if (selector.find_first_not_of(' ') == std::string_view::npos) {
    return "must name the element to hide, e.g. \"#payment-invoice\"";
  }
  if (selector.size() > kMaxSelector) return "at most 1000 bytes";
  std::vector<char> open;  // expected closers: ']' or ')'
  char quote = 0;
  for (size_t i = 0; i < selector.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(selector[i]);
    if (!Allowed(c)) {
      return Describe(c) + " at offset " + std::to_string(i) +
             " is not allowed in a selector (only plain selector lists: no '{', '}', '<', ';', "
             "'\\', '/', '@', comments or control characters)";
    }
    if (quote != 0) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = static_cast<char>(c);
    } else if (c == '[' || c == '(') {
      open.push_back(c == '[' ? ']' : ')');
    } else if (c == ']' || c == ')') {
      if (open.empty() || open.back() != static_cast<char>(c)) {
        return std::string("unbalanced '") + static_cast<char>(c) + "' at offset " +
               std::to_string(i);
      }
      open.pop_back();
    }
  }
  if (quote != 0) return "unterminated quoted string";
  if (!open.empty()) return std::string("missing '") + open.back() + "'";
  if (selector.back() == ',' || selector.front() == ',') return "empty selector in the list";
  return "";
}

}  // namespace tidegate::config
