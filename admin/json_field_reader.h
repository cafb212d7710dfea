// FieldReader: reads the fields of one JSON object of a stored document
// (the run-time state in Redis or the state file), keeping the first problem
// with its path ("rooms.shop.mode: unknown value"). Internal to the JSON
// codecs of admin/ (runtime_state_json.cc, incident_json.cc).
//
// Contract: a value type over a borrowed object (which must outlive it);
// never throws; after the first failure every read is a no-op.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/rfc3339.h"
#include "config/value_parsers.h"

namespace tidegate::admin {

// Reads the fields of one JSON object; the first problem wins and is kept
// with its path ("rooms.shop.mode: …").
class FieldReader {
 public:
  using Json = nlohmann::json;

  FieldReader(const Json& object, std::string path, std::string* error)
      : object_(object), path_(std::move(path)), error_(error) {
    if (!object_.is_object()) Fail("", "not an object");
  }

  bool ok() const { return ok_; }

  const Json* Find(const char* key) const {
    if (!ok_) return nullptr;
    auto it = object_.find(key);
    return it == object_.end() || it->is_null() ? nullptr : &*it;
  }

  void String(const char* key, std::string* out, bool required = true) {
    const Json* v = Find(key);
    if (v == nullptr) {
      if (required) Fail(key, "missing");
      return;
    }
    if (!v->is_string()) return Fail(key, "not a string");
    *out = v->get<std::string>();
  }

  void Time(const char* key, common::TimePoint* out) {
    std::optional<common::TimePoint> t;
    OptionalTime(key, &t);
    if (ok_ && !t) return Fail(key, "missing");
    if (t) *out = *t;
  }

  void OptionalTime(const char* key, std::optional<common::TimePoint>* out) {
    const Json* v = Find(key);
    if (v == nullptr) return;
    if (!v->is_string()) return Fail(key, "not an RFC 3339 time");
    *out = common::ParseRfc3339(v->get_ref<const std::string&>());
    if (!*out) Fail(key, "not an RFC 3339 time");
  }

  void OptionalBool(const char* key, bool* out) {
    const Json* v = Find(key);
    if (v == nullptr) return;
    if (!v->is_boolean()) return Fail(key, "not a boolean");
    *out = v->get<bool>();
  }

  void OptionalCount(const char* key, std::optional<uint32_t>* out) {
    const Json* v = Find(key);
    if (v == nullptr) return;
    if (!v->is_number_unsigned() || v->get<uint64_t>() > std::numeric_limits<uint32_t>::max()) {
      return Fail(key, "not a 32-bit unsigned integer");
    }
    *out = static_cast<uint32_t>(v->get<uint64_t>());
  }

  void OptionalDuration(const char* key, std::optional<config::Duration>* out) {
    const Json* v = Find(key);
    if (v == nullptr) return;
    std::string why = "not a duration";
    if (v->is_string()) *out = config::ParseDuration(v->get_ref<const std::string&>(), &why);
    if (!*out) Fail(key, why);
  }

  template <typename T>
  void OptionalEnum(const char* key, std::optional<T> (*parse)(std::string_view),
                    std::optional<T>* out) {
    const Json* v = Find(key);
    if (v == nullptr) return;
    if (v->is_string()) *out = parse(v->get_ref<const std::string&>());
    if (!*out) Fail(key, "unknown value");
  }

  void StringList(const char* key, std::vector<std::string>* out) {
    const Json* v = Find(key);
    if (v == nullptr) return;
    if (!v->is_array()) return Fail(key, "not an array of strings");
    for (const Json& item : *v) {
      if (!item.is_string()) return Fail(key, "not an array of strings");
      out->push_back(item.get<std::string>());
    }
  }

  const std::string& path() const { return path_; }

  void Fail(std::string_view key, std::string_view why) {
    if (!ok_) return;
    ok_ = false;
    std::string message = path_;
    if (!key.empty()) {
      if (!message.empty()) message += '.';
      message += key;
    }
    if (!message.empty()) message += ": ";
    message += why;
    *error_ = std::move(message);
  }

 private:
  const Json& object_;
  std::string path_;
  std::string* error_;
  bool ok_ = true;
};

}  // namespace tidegate::admin
