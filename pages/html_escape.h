// HTML escaping shared by every page tidegate renders itself (error pages,
// status page, queue page, maintenance page, the demo shop).
//
// Contract: pure; escapes the five characters that matter in text and in
// quoted attribute values (& < > " '); everything else (UTF-8 included) is
// copied as is.
#pragma once

#include <string>
#include <string_view>

namespace tidegate::pages {

std::string EscapeHtml(std::string_view text);
// Appends the escaped text to `out` (no temporary string).
void AppendEscapedHtml(std::string_view text, std::string* out);

}  // namespace tidegate::pages
