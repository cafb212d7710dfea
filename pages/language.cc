#include "pages/language.h"

#include "common/ascii.h"

namespace tidegate::pages {
namespace {

// q-value of one range's parameters ("q=0.5"); 1000 = 1.0; -1 when malformed.
int ParseQuality(std::string_view params) {
  int quality = 1000;
  while (!params.empty()) {
    size_t semi = params.find(';');
    std::string_view param = common::TrimOws(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    if (param.size() < 2 || (param[0] != 'q' && param[0] != 'Q') || param[1] != '=') continue;
    std::string_view value = param.substr(2);
    if (value.empty() || (value[0] != '0' && value[0] != '1')) return -1;
    int whole = value[0] - '0';
    int thousandths = 0;
    if (value.size() > 1) {
      if (value[1] != '.' || value.size() > 5) return -1;
      int scale = 100;
      for (char c : value.substr(2)) {
        if (c < '0' || c > '9') return -1;
        thousandths += (c - '0') * scale;
        scale /= 10;
      }
    }
    quality = whole * 1000 + thousandths;
    if (quality > 1000) return -1;
  }
  return quality;
}

}  // namespace

std::string_view LanguageCode(Language language) {
  return language == Language::kFrench ? "fr" : "en";
}

std::optional<Language> ParseLanguageCode(std::string_view code) {
  if (common::EqualsIgnoreCase(code, "en")) return Language::kEnglish;
  if (common::EqualsIgnoreCase(code, "fr")) return Language::kFrench;
  return std::nullopt;
}

Language PickLanguage(std::string_view accept_language, Language fallback) {
  int best_quality = 0;
  std::optional<Language> best;
  while (!accept_language.empty()) {
    size_t comma = accept_language.find(',');
    std::string_view item = accept_language.substr(0, comma);
    accept_language =
        comma == std::string_view::npos ? std::string_view() : accept_language.substr(comma + 1);
    size_t semi = item.find(';');
    std::string_view range = common::TrimOws(item.substr(0, semi));
    int quality =
        ParseQuality(semi == std::string_view::npos ? std::string_view() : item.substr(semi + 1));
    if (quality <= best_quality) continue;  // malformed (-1), refused (0) or not better
    std::optional<Language> language;
    if (range == "*") {
      language = fallback;
    } else {
      language = ParseLanguageCode(range.substr(0, range.find('-')));
    }
    if (!language) continue;
    best_quality = quality;
    best = language;
  }
  return best.value_or(fallback);
}

}  // namespace tidegate::pages
