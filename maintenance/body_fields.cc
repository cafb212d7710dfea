#include "maintenance/body_fields.h"

#include "maintenance/request_fields.h"
#include "proxy/http_message.h"

namespace tidegate::maintenance {

BodyKind BodyKindOf(const std::string* content_type) {
  if (content_type == nullptr) return BodyKind::kNone;
  std::string_view type(*content_type);
  type = type.substr(0, type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  if (proxy::EqualsIgnoreCase(type, "application/x-www-form-urlencoded")) return BodyKind::kForm;
  if (proxy::EqualsIgnoreCase(type, "application/json")) return BodyKind::kJson;
  if (type.size() > 5 && proxy::EqualsIgnoreCase(type.substr(type.size() - 5), "+json")) {
    return BodyKind::kJson;
  }
  return BodyKind::kNone;
}

BodyFields::BodyFields(BodyKind kind, std::string body, bool complete)
    : kind_(kind), body_(std::move(body)), complete_(complete) {
  if (kind_ == BodyKind::kJson) {
    json_ = nlohmann::json::parse(body_, nullptr, /*allow_exceptions=*/false);
  } else {
    json_ = nlohmann::json(nlohmann::json::value_t::discarded);
  }
}

bool BodyFields::FormHas(std::string_view name, std::string_view value) const {
  if (kind_ != BodyKind::kForm) return false;
  std::string_view rest = body_;
  if (!complete_) {
    // The last pair may be cut in the middle: only whole pairs count.
    size_t last = rest.rfind('&');
    rest = last == std::string_view::npos ? std::string_view() : rest.substr(0, last);
  }
  std::string key_text;
  std::string value_text;
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    size_t eq = pair.find('=');
    FormDecode(pair.substr(0, eq), &key_text);
    if (key_text != name) continue;
    FormDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1),
               &value_text);
    if (value_text == value) return true;
  }
  return false;
}

bool BodyFields::JsonHas(std::string_view dotted_path, std::string_view value) const {
  if (kind_ != BodyKind::kJson || json_.is_discarded()) return false;
  const nlohmann::json* node = &json_;
  while (true) {
    size_t dot = dotted_path.find('.');
    std::string key(dotted_path.substr(0, dot));
    if (!node->is_object()) return false;
    auto it = node->find(key);
    if (it == node->end()) return false;
    node = &*it;
    if (dot == std::string_view::npos) break;
    dotted_path.remove_prefix(dot + 1);
  }
  if (node->is_string()) return node->get_ref<const std::string&>() == value;
  if (node->is_number() || node->is_boolean() || node->is_null()) return node->dump() == value;
  return false;
}

}  // namespace tidegate::maintenance
