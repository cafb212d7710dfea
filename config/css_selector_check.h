// Internal to config/: the check of `hide_selector` ([features.NAME] with
// action = "hide"). The selector ends up inside a <style> element of the
// shop's pages, so only the characters of plain selector lists are accepted
// (letters, digits, non-ASCII, space and - _ . # [ ] = ~ ^ $ * | : ( ) , > +
// ' "), with balanced quotes, brackets and parentheses: no '{', '}', '<',
// ';', '\', '/', '@', '!', '&', comments or control characters can leave the
// selector or the <style> element.
#pragma once

#include <string>
#include <string_view>

namespace tidegate::config {

// "" when `selector` is acceptable, else why not (naming the offending
// character and its offset).
std::string CheckCssSelector(std::string_view selector);

}  // namespace tidegate::config
