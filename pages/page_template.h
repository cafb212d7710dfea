// A page template (Mustache, Debian's libkainjow-mustache-dev) for the pages
// tidegate shows shoppers: maintenance, queue, banner. The merchant may
// override each built-in template by putting a file of the same name in
// [site].templates_dir.
//
// Contract:
// * Load() runs on the control thread (it reads the override file); it
//   returns nullopt and sets *error ("templates_dir/queue.html:3:7: Unclosed
//   tag": the line and column of the offset the Mustache parser names) when
//   the override cannot be read or does not parse, so a reload keeps the old
//   configuration instead of serving a broken page.
// * Render() is const and thread-safe for data without lambdas or partials
//   (the only data tidegate builds): workers share one parsed template.
//   Values are HTML-escaped unless the template uses {{{triple}}} braces.
#pragma once

#include <kainjow/mustache.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tidegate::pages {

using TemplateData = kainjow::mustache::data;

class PageTemplate {
 public:
  // `file_name` is looked up in `templates_dir` (when not empty); `builtin`
  // is used when the directory has no such file.
  static std::optional<PageTemplate> Load(const std::string& templates_dir,
                                          std::string_view file_name, std::string_view builtin,
                                          std::string* error);
  // Parses `text` (tests, built-in templates).
  static std::optional<PageTemplate> FromText(std::string_view text, std::string* error);

  // A parse error of `text` placed: kainjow's "Unclosed tag at 16" (a byte
  // offset) becomes "3:7: Unclosed tag" (1-based line and column); a message
  // without an offset is returned as is.
  static std::string PlaceParseError(std::string_view text, const std::string& message);

  std::string Render(const TemplateData& data) const;
  // Where the template came from: the override's path or "built-in".
  const std::string& origin() const { return origin_; }

 private:
  std::shared_ptr<kainjow::mustache::mustache> parsed_;
  std::string origin_;
};

}  // namespace tidegate::pages
