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
      auto page = FromText(text.str(), &parse_error);
      if (!page) {
        *error = path + ": " + parse_error;
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
