#include "pages/page_template.h"

#include <sys/stat.h>
#include <fstream>
#include <sstream>

namespace tidegate::pages {

std::optional<PageTemplate> PageTemplate::FromText(std::string_view text, std::string* error) {
  auto parsed = std::make_shared<kainjow::mustache::mustache>(std::string(text));
  if (!parsed->is_valid()) {
    *error = parsed->error_message();
    return std::nullopt;
  }
  PageTemplate page;
  page.parsed_ = std::move(parsed);
  page.origin_ = "built-in";
  return page;
}

std::string PageTemplate::PlaceParseError(std::string_view text, const std::string& message) {
  static constexpr std::string_view kAt = " at ";
  size_t at = message.rfind(kAt);
  if (at == std::string::npos || at + kAt.size() >= message.size()) return message;
  size_t offset = 0;
  for (size_t i = at + kAt.size(); i < message.size(); ++i) {
    if (message[i] < '0' || message[i] > '9' || offset > text.size()) return message;
    offset = offset * 10 + static_cast<size_t>(message[i] - '0');
  }
  if (offset > text.size()) return message;
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return std::to_string(line) + ":" + std::to_string(offset - line_start + 1) + ": " +
         message.substr(0, at);
}

std::optional<PageTemplate> PageTemplate::Load(const std::string& templates_dir,
                                               std::string_view file_name, std::string_view builtin,
                                               std::string* error) {
  if (!templates_dir.empty()) {
    std::string path = templates_dir + "/" + std::string(file_name);
    struct stat st {};
    if (stat(path.c_str(), &st) == 0) {
      std::ifstream in(path, std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      if (!in.good() && !in.eof()) {
        *error = path + ": cannot be read";
        return std::nullopt;
      }
      std::string parse_error;
      std::string content = text.str();
      auto page = FromText(content, &parse_error);
      if (!page) {
        std::string placed = PlaceParseError(content, parse_error);
        *error = path + (placed == parse_error ? ": " : ":") + placed;
        return std::nullopt;
      }
      page->origin_ = path;
      return page;
    }
  }
  std::string parse_error;
  auto page = FromText(builtin, &parse_error);
  if (!page) *error = "built-in " + std::string(file_name) + ": " + parse_error;
  return page;
}

std::string PageTemplate::Render(const TemplateData& data) const {
  // kainjow's render() is not const, but with data free of lambdas and
  // partials it only reads the parsed tree (see the header's contract).
  return parsed_->render(data);
}

}  // namespace tidegate::pages
