#include "admin/state_copy.h"

#include <time.h>

#include <nlohmann/json.hpp>

#include "admin/runtime_state_json.h"
#include "common/rfc3339.h"

namespace tidegate::admin {
namespace {

using nlohmann::json;

constexpr char kFormat[] = "tidegate.shared_state_copy";
constexpr int kFormatVersion = 1;

}  // namespace

std::string StateCopyText(const state::RuntimeState& state, const std::string& store,
                          common::TimePoint now) {
  json doc = {{"format", kFormat},
              {"version", kFormatVersion},
              {"saved_at", common::FormatRfc3339Millis(now)},
              {"store", store},
              {"state", ToJson(state)}};
  return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::optional<StateCopy> ParseStateCopy(const std::string& text, std::string* error) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    *error = text.empty() ? "the file is empty (a write cut short?)" : "not a JSON object";
    return std::nullopt;
  }
  if (doc.value("format", "") != kFormat) {
    *error = std::string("format: expected \"") + kFormat + "\"";
    return std::nullopt;
  }
  auto v = doc.find("version");
  if (v == doc.end() || !v->is_number_unsigned() || v->get<uint64_t>() != kFormatVersion) {
    *error = "version: this binary reads version " + std::to_string(kFormatVersion);
    return std::nullopt;
  }
  StateCopy copy;
  auto store = doc.find("store");
  if (store == doc.end() || !store->is_string()) {
    *error = "store: missing or not a string";
    return std::nullopt;
  }
  copy.store = store->get<std::string>();
  auto saved = doc.find("saved_at");
  std::optional<common::TimePoint> at;
  if (saved != doc.end() && saved->is_string())
    at = common::ParseRfc3339(saved->get<std::string>());
  if (!at) {
    *error = "saved_at: missing or not an RFC 3339 time";
    return std::nullopt;
  }
  copy.saved_at = saved->get<std::string>();
  copy.saved_at_time = *at;
  auto s = doc.find("state");
  if (s == doc.end()) {
    *error = "state: missing";
    return std::nullopt;
  }
  std::optional<state::RuntimeState> parsed = RuntimeStateFromJson(*s, error);
  if (!parsed) {
    *error = "state." + *error;
    return std::nullopt;
  }
  copy.state = std::make_shared<const state::RuntimeState>(std::move(*parsed));
  return copy;
}

StateCopyFile::StateCopyFile(std::string path, std::string store)
    : file_(std::move(path)), store_(std::move(store)) {}

std::optional<StateCopy> StateCopyFile::Load(std::string* warning) const {
  if (!enabled()) return std::nullopt;
  state::StateFile::ReadResult read = file_.Read();
  if (read.status == state::StateFile::ReadStatus::kMissing) return std::nullopt;
  std::string problem;
  if (read.status == state::StateFile::ReadStatus::kError) {
    *warning = "local copy " + file_.path() + " cannot be read: " + read.error;
    return std::nullopt;
  }
  std::optional<StateCopy> copy = ParseStateCopy(read.text, &problem);
  if (!copy) {
    std::string aside_error;
    std::string aside = file_.SetAside(time(nullptr), &aside_error);
    *warning = "local copy " + file_.path() + " cannot be used: " + problem + "; " +
               (aside.empty() ? "could not set it aside: " + aside_error : "set aside as " + aside);
    return std::nullopt;
  }
  if (copy->store != store_) {
    *warning = "local copy " + file_.path() + " is of another store (" + copy->store + ", not " +
               store_ + "): not used";
    return std::nullopt;
  }
  return copy;
}

bool StateCopyFile::Save(const state::RuntimeState& state, common::TimePoint now,
                         std::string* error) const {
  if (!enabled()) return true;
  return file_.Write(StateCopyText(state, store_, now), error);
}

}  // namespace tidegate::admin
