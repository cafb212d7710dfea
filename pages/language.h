// Which language a shopper's page is rendered in: English or French, chosen
// from the Accept-Language request header (RFC 9110 §12.5.4, q-values
// honoured, "fr-CA" counts as "fr", "*" as the fallback).
//
// Contract: pure functions, thread-safe, no allocation on the hot path.
#pragma once

#include <optional>
#include <string_view>

namespace tidegate::pages {

enum class Language { kEnglish, kFrench };

std::string_view LanguageCode(Language language);                  // "en" | "fr"
std::optional<Language> ParseLanguageCode(std::string_view code);  // "en" | "fr" only

// The supported language the client prefers most, or `fallback` when the
// header is empty, malformed, or names neither language with q > 0.
Language PickLanguage(std::string_view accept_language, Language fallback);

}  // namespace tidegate::pages
