#include "config/table_reader.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <vector>

#include "config/value_parsers.h"

namespace tidegate::config {

std::string TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
      return "a date/time";
    default:
      return "nothing";
  }
}

std::string FolderOf(const toml::node& node) {
  const auto& path = node.source().path;
  if (!path) return "";
  return std::filesystem::path(*path).parent_path().string();
}

TableReader::TableReader(const toml::table* table, std::string path, Diagnostics* diagnostics)
    : table_(table), path_(std::move(path)), diagnostics_(diagnostics) {}

std::string TableReader::KeyPath(std::string_view key) const {
  if (path_.empty()) return std::string(key);
  return path_ + "." + std::string(key);
}

const toml::node* TableReader::Take(std::string_view key) {
  known_.emplace(key);
  return table_ ? table_->get(key) : nullptr;
}

bool TableReader::Require(std::string_view key) {
  known_.emplace(key);
  if (table_ && table_->contains(key)) return true;
  TableError(key, "is required");
  return false;
}

void TableReader::Error(const toml::node& node, std::string_view key, std::string message) {
  diagnostics_->Add(node, KeyPath(key), std::move(message));
}

void TableReader::TableError(std::string_view key, std::string message) {
  if (table_ && table_->source().begin.line > 0) {
    diagnostics_->Add(*table_, KeyPath(key), std::move(message));
  } else {
    diagnostics_->AddGlobal(KeyPath(key), std::move(message));
  }
}

bool TableReader::ReadString(std::string_view key, std::string* out) {
  const toml::node* node = Take(key);
  if (!node) return false;
  if (const auto* value = node->as_string()) {
    *out = value->get();
    return true;
  }
  Error(*node, key, "expected a string, got " + TypeName(*node));
  return false;
}

bool TableReader::ReadBool(std::string_view key, bool* out) {
  const toml::node* node = Take(key);
  if (!node) return false;
  if (const auto* value = node->as_boolean()) {
    *out = value->get();
    return true;
  }
  Error(*node, key, "expected true or false, got " + TypeName(*node));
  return false;
}

bool TableReader::ReadInt(std::string_view key, int64_t min, int64_t max, int64_t* out) {
  const toml::node* node = Take(key);
  if (!node) return false;
  const auto* value = node->as_integer();
  if (!value) {
    Error(*node, key, "expected an integer, got " + TypeName(*node));
    return false;
  }
  if (value->get() < min || value->get() > max) {
    Error(*node, key,
          std::to_string(value->get()) + " is out of range [" + std::to_string(min) + ", " +
              std::to_string(max) + "]");
    return false;
  }
  *out = value->get();
  return true;
}

bool TableReader::ReadDuration(std::string_view key, Duration min, Duration max, Duration* out) {
  const toml::node* node = Take(key);
  if (!node) return false;
  const auto* value = node->as_string();
  if (!value) {
    Error(*node, key,
          "expected a duration string like \"30s\", got " + TypeName(*node) +
              (node->is_number() ? " (a bare number has no unit)" : ""));
    return false;
  }
  std::string error;
  std::optional<Duration> parsed = ParseDuration(value->get(), &error);
  if (!parsed) {
    Error(*node, key, "\"" + value->get() + "\": " + error);
    return false;
  }
  if (*parsed < min || *parsed > max) {
    Error(*node, key,
          "\"" + value->get() + "\" is out of range [" + FormatDuration(min) + ", " +
              FormatDuration(max) + "]");
    return false;
  }
  *out = *parsed;
  return true;
}

bool TableReader::ReadSize(std::string_view key, uint64_t min, uint64_t max, uint64_t* out) {
  const toml::node* node = Take(key);
  if (!node) return false;
  uint64_t size = 0;
  if (const auto* integer = node->as_integer()) {
    if (integer->get() < 0) {
      Error(*node, key, "a size cannot be negative");
      return false;
    }
    size = static_cast<uint64_t>(integer->get());
  } else if (const auto* text = node->as_string()) {
    std::string error;
    std::optional<uint64_t> parsed = ParseSize(text->get(), &error);
    if (!parsed) {
      Error(*node, key, "\"" + text->get() + "\": " + error);
      return false;
    }
    size = *parsed;
  } else {
    Error(*node, key, "expected a size (bytes, or a string like \"16MB\"), got " + TypeName(*node));
    return false;
  }
  if (size < min || size > max) {
    Error(*node, key,
          std::to_string(size) + " bytes is out of range [" + std::to_string(min) + ", " +
              std::to_string(max) + "]");
    return false;
  }
  *out = size;
  return true;
}

bool TableReader::ReadStringArray(std::string_view key, std::vector<std::string>* out) {
  const toml::array* array = ReadArray(key);
  if (!array) return false;
  std::vector<std::string> values;
  bool ok = true;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    if (const auto* text = element.as_string()) {
      values.push_back(text->get());
    } else {
      diagnostics_->Add(element, KeyPath(key) + "[" + std::to_string(i) + "]",
                        "expected a string, got " + TypeName(element));
      ok = false;
    }
  }
  if (ok) *out = std::move(values);
  return ok;
}

bool TableReader::ReadStringMap(std::string_view key, std::map<std::string, std::string>* out) {
  const toml::table* table = ReadTable(key);
  if (!table) return false;
  std::map<std::string, std::string> values;
  bool ok = true;
  for (const auto& [name, node] : *table) {
    if (const auto* text = node.as_string()) {
      values.emplace(std::string(name.str()), text->get());
    } else {
      diagnostics_->Add(node, KeyPath(key) + "." + std::string(name.str()),
                        "expected a string, got " + TypeName(node));
      ok = false;
    }
  }
  if (ok) *out = std::move(values);
  return ok;
}

const toml::table* TableReader::ReadTable(std::string_view key) {
  const toml::node* node = Take(key);
  if (!node) return nullptr;
  if (const auto* table = node->as_table()) return table;
  Error(*node, key, "expected a table, got " + TypeName(*node));
  return nullptr;
}

const toml::array* TableReader::ReadArray(std::string_view key) {
  const toml::node* node = Take(key);
  if (!node) return nullptr;
  if (const auto* array = node->as_array()) return array;
  Error(*node, key, "expected an array, got " + TypeName(*node));
  return nullptr;
}

void TableReader::ReportUnknownKeys() {
  if (!table_) return;
  for (const auto& [key, node] : *table_) {
    if (known_.count(key.str())) continue;
    // The key's own position is where the typo is.
    const toml::source_region& where = key.source().begin.line > 0 ? key.source() : node.source();
    std::string message = "unknown key";
    size_t best = 3;  // suggest only close spellings
    for (const std::string& candidate : known_) {
      size_t distance = EditDistance(key.str(), candidate);
      if (distance < best) {
        best = distance;
        message = "unknown key (did you mean \"" + candidate + "\"?)";
      }
    }
    // A key with a dot was quoted ("server.workers" = 2): one key whose
    // name holds the dot, not workers in [server]. Shown quoted, so the
    // message does not read as if a valid key were refused.
    std::string_view name = key.str();
    bool bare = !name.empty();
    for (char c : name) bare &= std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    if (!bare) {
      // Built with append(): GCC 12 warns falsely (-Wrestrict) on `"x" + std::string`.
      std::string quoted(1, '"');
      quoted.append(name).append(1, '"');
      if (name.find('.') != std::string_view::npos) {
        message = "unknown key: the quotes make " + quoted +
                  " one key whose name holds a dot; without them, ";
        message.append(name).append(" is a key in a nested table");
      }
      diagnostics_->Add(where, KeyPath(quoted), message);
      continue;
    }
    diagnostics_->Add(where, KeyPath(key.str()), message);
  }
}

}  // namespace tidegate::config

namespace tidegate::config {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

bool ReadOffsetTime(TableReader& reader, const toml::node& node, std::string_view key,
                    std::chrono::system_clock::time_point* out) {
  std::optional<toml::date_time> value;
  if (const auto* dt = node.as_date_time()) {
    value = dt->get();
  } else if (const auto* text = node.as_string()) {
    try {  // toml++ reports parse errors by exception (configuration load only)
      toml::table parsed = toml::parse("v = " + text->get());
      if (const toml::node* v = parsed.get("v")) {
        if (const auto* dt2 = v->as_date_time()) value = dt2->get();
      }
    } catch (const toml::parse_error&) {
    }
  }
  if (!value || !value->offset) {
    reader.Error(node, key,
                 "expected an RFC 3339 time with an offset, such as 2026-11-27T09:00:00Z or "
                 "2026-11-27T10:00:00+01:00");
    return false;
  }
  std::string error;
  auto time = ToTimePoint(
      {value->date.year, value->date.month, value->date.day, value->time.hour, value->time.minute,
       value->time.second, value->time.nanosecond, value->offset->minutes},
      &error);
  if (!time) {
    reader.Error(node, key, error);
    return false;
  }
  *out = *time;
  return true;
}

}  // namespace tidegate::config
