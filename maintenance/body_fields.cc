#include "maintenance/body_fields.h"

#include <cctype>

#include "common/ascii.h"
#include "common/query_string.h"
#include "maintenance/field_names.h"
#include "maintenance/json_fields.h"
#include "maintenance/multipart_fields.h"
#include "maintenance/request_fields.h"
#include "proxy/http_message.h"

namespace tidegate::maintenance {
namespace {

std::string_view MediaType(std::string_view type) {
  type = type.substr(0, type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  return type;
}

void ReadForm(std::string_view rest, bool complete,
              std::vector<std::pair<std::string, std::string>>* out) {
  if (!complete) {
    // The last pair may be cut in the middle: only whole pairs count.
    size_t last = rest.rfind('&');
    rest = last == std::string_view::npos ? std::string_view() : rest.substr(0, last);
  }
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    size_t eq = pair.find('=');
    std::string key;
    std::string value;
    common::FormDecode(pair.substr(0, eq), &key);
    common::FormDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1),
                       &value);
    out->emplace_back(std::move(key), std::move(value));
  }
}

// A charset parameter other than UTF-8 or an ASCII superset read byte for
// byte (an origin decoding UTF-16 would see other fields than the gate).
bool ReadableCharset(std::string_view content_type) {
  std::string lower(content_type);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t at = lower.find("charset=");
  if (at == std::string::npos) return true;
  std::string_view value = std::string_view(lower).substr(at + 8);
  value = value.substr(0, value.find_first_of("; \t"));
  if (!value.empty() && value.front() == '"') value = value.substr(1, value.find('"', 1) - 1);
  for (std::string_view ok : {"utf-8", "utf8", "us-ascii", "iso-8859-1", "latin1"}) {
    if (value == ok) return true;
  }
  return false;
}

}  // namespace

BodyKind BodyKindOf(const std::string* content_type) {
  if (content_type == nullptr) return BodyKind::kUnknown;
  std::string_view type = MediaType(*content_type);
  if (proxy::EqualsIgnoreCase(type, "application/x-www-form-urlencoded")) return BodyKind::kForm;
  if (proxy::EqualsIgnoreCase(type, "multipart/form-data")) return BodyKind::kMultipart;
  if (proxy::EqualsIgnoreCase(type, "application/json")) return BodyKind::kJson;
  if (type.size() > 5 && proxy::EqualsIgnoreCase(type.substr(type.size() - 5), "+json")) {
    return BodyKind::kJson;
  }
  return BodyKind::kUnknown;
}

BodyFields::BodyFields(const std::string* content_type, const std::string* content_encoding,
                       std::string body, bool complete)
    : complete_(complete) {
  if (body.empty() && complete) return;  // no body, no fields: decided
  if (content_encoding != nullptr && !proxy::EqualsIgnoreCase(*content_encoding, "identity")) {
    kind_ = BodyKind::kUnknown;  // a compressed body the origin may inflate
    readable_ = false;
    return;
  }
  Parse(content_type, std::move(body));
}

BodyFields::BodyFields(const proxy::HeaderList& headers, std::string body, bool complete)
    : complete_(complete) {
  if (body.empty() && complete) return;  // no body, no fields: decided
  const std::string* content_type = nullptr;
  bool readable = true;
  for (const proxy::Header& field : headers.fields()) {
    if (proxy::EqualsIgnoreCase(field.name, "Content-Encoding")) {
      // Every line counts: "identity" then "gzip" is a gzipped body.
      if (!proxy::EqualsIgnoreCase(field.value, "identity")) readable = false;
    } else if (proxy::EqualsIgnoreCase(field.name, "Content-Type")) {
      // Two different types: the gate cannot know which one the origin reads.
      if (content_type != nullptr && *content_type != field.value) readable = false;
      content_type = &field.value;
    }
  }
  if (!readable) {
    kind_ = BodyKind::kUnknown;
    readable_ = false;
    return;
  }
  Parse(content_type, std::move(body));
}

BodyFields::BodyFields(BodyKind kind, std::string body, bool complete) : complete_(complete) {
  static const std::string kTypes[] = {"", "application/x-www-form-urlencoded", "application/json",
                                       "multipart/form-data; boundary=b", "text/plain"};
  Parse(kind == BodyKind::kNone ? nullptr : &kTypes[static_cast<int>(kind)], std::move(body));
}

void BodyFields::Parse(const std::string* content_type, std::string body) {
  kind_ = BodyKindOf(content_type);
  if (content_type != nullptr && !ReadableCharset(*content_type)) {
    readable_ = false;
    return;
  }
  switch (kind_) {
    case BodyKind::kForm:
      ReadForm(body, complete_, &fields_);
      ReadPhpNames(/*multipart=*/false);
      return;
    case BodyKind::kJson:
      readable_ = CollectJsonLeaves(body, &fields_);
      if (!readable_) fields_.clear();
      return;
    case BodyKind::kMultipart: {
      std::optional<std::string> boundary = MultipartBoundary(*content_type);
      MultipartResult result = boundary ? ParseMultipartFields(body, *boundary, complete_, &fields_)
                                        : MultipartResult::kMalformed;
      readable_ = result != MultipartResult::kMalformed;
      ReadPhpNames(/*multipart=*/true);
      return;
    }
    case BodyKind::kNone:
    case BodyKind::kUnknown:
      readable_ = false;
      return;
  }
}

void BodyFields::ReadPhpNames(bool multipart) {
  PhpNameReader php;
  std::string reading;
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (php.Read(fields_[i].first, multipart, &reading)) php_names_.emplace_back(i, reading);
  }
}

bool BodyFields::FormHas(std::string_view name, std::string_view value) const {
  if (!readable_) return false;
  for (const auto& [key, text] : fields_) {
    if (kind_ == BodyKind::kJson && key.find('.') != std::string::npos) continue;
    if (text == value && proxy::EqualsIgnoreCase(key, name)) return true;
  }
  for (const auto& [index, reading] : php_names_) {
    if (fields_[index].second == value && proxy::EqualsIgnoreCase(reading, name)) return true;
  }
  return false;
}

bool BodyFields::FormHasAnyOf(std::string_view name, const std::vector<std::string>& values) const {
  if (!readable_) return false;
  auto matches = [&](std::string_view text) {
    text = common::TrimOws(text);
    for (const std::string& v : values) {
      if (proxy::EqualsIgnoreCase(text, v)) return true;
    }
    return false;
  };
  for (const auto& [key, text] : fields_) {
    if (kind_ == BodyKind::kJson && key.find('.') != std::string::npos) continue;
    if (proxy::EqualsIgnoreCase(key, name) && matches(text)) return true;
  }
  for (const auto& [index, reading] : php_names_) {
    if (proxy::EqualsIgnoreCase(reading, name) && matches(fields_[index].second)) return true;
  }
  return false;
}

bool BodyFields::JsonHas(std::string_view dotted_path, std::string_view value) const {
  if (!readable_ || kind_ != BodyKind::kJson) return false;
  for (const auto& [path, text] : fields_) {
    if (text == value && proxy::EqualsIgnoreCase(path, dotted_path)) return true;
  }
  return false;
}

}  // namespace tidegate::maintenance
