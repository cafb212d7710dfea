// Internal to config/: reads the keys of one TOML table with type and range
// checks, reporting every problem to a Diagnostics with the key's position.
//
// Contract: a TableReader remembers which keys were read; ReportUnknownKeys()
// then reports every other key as an error (a typo must not silently disable
// protection). Getters leave *out untouched when the key is absent or invalid,
// so the defaults of config.h stay in force. Single-threaded; borrows the
// table and the Diagnostics, which must outlive it.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "config/config.h"
#include "config/diagnostics.h"

namespace tidegate::config {

// "a string", "an integer", ... for type errors.
std::string TypeName(const toml::node& node);

// The folder of the file that defined `node` ("" when unknown), for resolving
// relative paths.
std::string FolderOf(const toml::node& node);

// Levenshtein distance, for "did you mean" hints on unknown names (short).
size_t EditDistance(std::string_view a, std::string_view b);

class TableReader {
 public:
  // `table` may be null (the section is absent): nothing is read, nothing is
  // reported. `path` is the dotted key path of the table ("" for the root).
  TableReader(const toml::table* table, std::string path, Diagnostics* diagnostics);

  const std::string& path() const { return path_; }
  const toml::table* table() const { return table_; }
  std::string KeyPath(std::string_view key) const;

  // The raw node of `key`, marking it as known; null when absent.
  const toml::node* Take(std::string_view key);
  // Reports "is required" (at the table) when `key` is absent.
  bool Require(std::string_view key);

  bool ReadString(std::string_view key, std::string* out);
  bool ReadBool(std::string_view key, bool* out);
  bool ReadInt(std::string_view key, int64_t min, int64_t max, int64_t* out);
  template <typename T>
  bool ReadInt(std::string_view key, int64_t min, int64_t max, T* out) {
    int64_t value = 0;
    if (!ReadInt(key, min, max, &value)) return false;
    *out = static_cast<T>(value);
    return true;
  }
  bool ReadDuration(std::string_view key, Duration min, Duration max, Duration* out);
  bool ReadSize(std::string_view key, uint64_t min, uint64_t max, uint64_t* out);
  template <typename E>
  bool ReadEnum(std::string_view key, std::initializer_list<std::pair<std::string_view, E>> choices,
                E* out) {
    std::string text;
    const toml::node* node = table_ ? table_->get(key) : nullptr;
    if (!ReadString(key, &text)) return false;
    std::string allowed;
    for (const auto& [name, value] : choices) {
      if (name == text) {
        *out = value;
        return true;
      }
      allowed += (allowed.empty() ? "\"" : ", \"") + std::string(name) + "\"";
    }
    Error(*node, key, "\"" + text + "\" is not one of " + allowed);
    return false;
  }
  bool ReadStringArray(std::string_view key, std::vector<std::string>* out);
  // A table of string values, e.g. `query = { lang = "en" }`.
  bool ReadStringMap(std::string_view key, std::map<std::string, std::string>* out);
  // The sub-table `key` (null when absent or not a table; a type error is reported).
  const toml::table* ReadTable(std::string_view key);
  const toml::array* ReadArray(std::string_view key);

  // An error at `node`'s position for `key` of this table.
  void Error(const toml::node& node, std::string_view key, std::string message);
  // An error at this table's position (e.g. a missing key).
  void TableError(std::string_view key, std::string message);

  // Reports every key of the table that no getter asked for.
  void ReportUnknownKeys();

 private:
  const toml::table* table_;
  std::string path_;
  Diagnostics* diagnostics_;
  std::set<std::string, std::less<>> known_;
};

// Calls fn(reader, table) for each element of the array `key` of `parent`,
// each a table with its own reader (unknown keys reported afterwards);
// `shape` describes the expected table in type errors.
template <typename Fn>
void ForEachTable(TableReader& parent, std::string_view key, Diagnostics* diagnostics,
                  const char* shape, Fn fn) {
  const toml::array* array = parent.ReadArray(key);
  if (!array) return;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    std::string path = parent.KeyPath(key) + "[" + std::to_string(i) + "]";
    const toml::table* table = element.as_table();
    if (!table) {
      diagnostics->Add(element, path,
                       std::string("expected a table ") + shape + ", got " + TypeName(element));
      continue;
    }
    TableReader entry(table, path, diagnostics);
    fn(entry, *table);
    entry.ReportUnknownKeys();
  }
}

// Reads `node` (the value of `key`) as an RFC 3339 time with an offset: a
// TOML offset date-time, or a string holding one. Local date-times (no
// offset) and years outside 1970..2200 are reported at the node's place;
// false then.
bool ReadOffsetTime(TableReader& reader, const toml::node& node, std::string_view key,
                    std::chrono::system_clock::time_point* out);

}  // namespace tidegate::config
