// [features.NAME]: parts of the shop that can be put under maintenance.
#include <cctype>

#include "common/http_methods.h"
#include "config/css_selector_check.h"
#include "config/pattern_check.h"
#include "config/sections.h"
#include "config/table_reader.h"
#include "config/value_parsers.h"

namespace tidegate::config {
namespace {

constexpr char kWindowShape[] =
    "{ message = \"...\", starts_at = 2026-11-24T02:00:00Z, until = 2026-11-24T04:00:00Z }";

constexpr char kRuleShape[] =
    "{ path = \"^/...\", methods = [...], host = \"...\", query = {...}, header = {...}, "
    "cookie = {...}, form = {...}, json = {...} }";

std::string Upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

void ReadRule(TableReader& entry, const toml::table& table, Diagnostics* diagnostics,
              FeatureMatchRule* rule) {
  if (entry.ReadString("path", &rule->path)) {
    std::string problem = CheckPattern(rule->path);
    if (!problem.empty()) entry.Error(*table.get("path"), "path", problem);
  }
  if (entry.ReadStringArray("methods", &rule->methods)) {
    const toml::array& array = *table.get("methods")->as_array();
    for (size_t i = 0; i < rule->methods.size(); ++i) {
      std::string key = entry.KeyPath("methods") + "[" + std::to_string(i) + "]";
      std::string upper = Upper(rule->methods[i]);
      if (!IsHttpToken(rule->methods[i])) {
        diagnostics->Add(*array.get(i), key, "\"" + rule->methods[i] + "\" is not an HTTP method");
      } else if (upper == "CONNECT") {
        diagnostics->Add(*array.get(i), key,
                         "CONNECT is refused with 400 (tidegate opens no tunnels), so this rule "
                         "could never match");
      } else if (!common::IsForwardedMethod(upper)) {
        diagnostics->Add(*array.get(i), key,
                         "\"" + rule->methods[i] +
                             "\" is not a method tidegate forwards: it answers 501 to unknown "
                             "methods, so this rule could never match (docs/configuration.md "
                             "lists the methods)");
      }
      rule->methods[i] = std::move(upper);
    }
  }
  if (entry.ReadString("host", &rule->host)) {
    // Compared with the request's Host without its port and one trailing
    // dot (maintenance/request_fields.h HostWithoutPort).
    std::string error;
    if (std::optional<std::string> host = ParseHostWithoutPort(rule->host, true, &error)) {
      rule->host = std::move(*host);
    } else {
      entry.Error(*table.get("host"), "host", error);
    }
  }
  entry.ReadStringMap("query", &rule->query);
  std::map<std::string, std::string> headers;
  if (entry.ReadStringMap("header", &headers)) {
    for (auto& [name, value] : headers) {
      if (!IsHttpToken(name)) {
        entry.Error(*table.get("header"), "header", "\"" + name + "\" is not a valid header name");
      }
      if (!rule->header.emplace(Lower(name), value).second) {
        entry.Error(*table.get("header"), "header",
                    "\"" + name + "\" is given twice (header names ignore case)");
      }
    }
  }
  entry.ReadStringMap("cookie", &rule->cookie);
  // Body fields: read from the first [maintenance].max_body_bytes of a
  // form or JSON body (maintenance/body_fields.h).
  entry.ReadStringMap("form", &rule->form);
  if (entry.ReadStringMap("json", &rule->json)) {
    for (const auto& [path, value] : rule->json) {
      if (path.empty() || path.front() == '.' || path.back() == '.' ||
          path.find("..") != std::string::npos) {
        entry.Error(*table.get("json"), "json",
                    "\"" + path + "\" is not a dotted JSON path like \"payment.method\"");
      }
    }
  }
  bool empty = rule->path.empty() && rule->methods.empty() && rule->host.empty() &&
               rule->query.empty() && rule->header.empty() && rule->cookie.empty() &&
               rule->form.empty() && rule->json.empty();
  if (empty) {
    diagnostics->Add(table, entry.path(),
                     "an empty rule would match every request; write path = \"^/\" if that is "
                     "what you mean");
  }
}

// A TOML offset date-time (2026-11-24T02:00:00Z), or a string holding one
// ("2026-11-24T02:00:00+01:00"). Local date-times (no offset) are refused:
// a window must not move with the server's time zone.
bool ReadTime(TableReader& reader, const toml::table& table, std::string_view key,
              std::chrono::system_clock::time_point* out) {
  const toml::node* node = reader.Take(key);
  if (!node) return false;
  return ReadOffsetTime(reader, *node, key, out);
}

void ReadWindow(TableReader& feature_reader, Diagnostics* diagnostics,
                std::optional<ConfigMaintenanceWindow>* out) {
  const toml::node* node = feature_reader.Take("maintenance");
  if (!node) return;
  const toml::table* table = node->as_table();
  std::string path = feature_reader.KeyPath("maintenance");
  if (!table) {
    diagnostics->Add(*node, path,
                     std::string("expected a table ") + kWindowShape + ", got " + TypeName(*node));
    return;
  }
  TableReader reader(table, path, diagnostics);
  ConfigMaintenanceWindow window;
  if (reader.ReadString("message", &window.message)) {
    bool control = false;
    for (unsigned char c : window.message) control |= c < 0x20 || c == 0x7f;
    if (window.message.size() > 1000 || control) {
      reader.Error(*table->get("message"), "message",
                   "at most 1000 bytes, without control characters");
    }
  }
  std::chrono::system_clock::time_point t;
  if (ReadTime(reader, *table, "starts_at", &t)) window.starts_at = t;
  if (ReadTime(reader, *table, "until", &t)) window.until = t;
  if (window.starts_at && window.until && *window.until <= *window.starts_at) {
    reader.Error(*table->get("until"), "until", "must be after starts_at");
  }
  reader.ReportUnknownKeys();
  *out = std::move(window);
}

// action, hide_selector, on_undecided (docs/maintenance.md).
void ReadAction(TableReader& reader, const toml::table* table, FeatureConfig* feature) {
  reader.ReadEnum<FeatureAction>(
      "action", {{"maintenance", FeatureAction::kMaintenance}, {"hide", FeatureAction::kHide}},
      &feature->action);
  bool hide = feature->action == FeatureAction::kHide;
  if (reader.ReadString("hide_selector", &feature->hide_selector)) {
    const toml::node& node = *table->get("hide_selector");
    std::string problem = CheckCssSelector(feature->hide_selector);
    if (!hide) {
      reader.Error(node, "hide_selector", "only used with action = \"hide\"");
    } else if (!problem.empty()) {
      reader.Error(node, "hide_selector", problem);
    }
  } else if (hide) {
    reader.TableError("hide_selector",
                      "action = \"hide\" needs hide_selector = \"...\" (the CSS selector of "
                      "what to hide, e.g. \"#pay-invoice\")");
  }
  reader.ReadEnum<UndecidedPolicy>(
      "on_undecided", {{"block", UndecidedPolicy::kBlock}, {"pass", UndecidedPolicy::kPass}},
      &feature->on_undecided);
}

void ReadFeature(const toml::table* table, const std::string& path, Diagnostics* diagnostics,
                 FeatureConfig* feature) {
  TableReader reader(table, path, diagnostics);
  ReadAction(reader, table, feature);
  // A hidden option needs no request rules; a maintenance feature does.
  bool needs_match = feature->action == FeatureAction::kMaintenance || table->contains("match");
  if (needs_match && reader.Require("match")) {
    if (const toml::node* match = table->get("match");
        match->is_array() && match->as_array()->empty()) {
      reader.Error(*match, "match", std::string("needs at least one rule ") + kRuleShape);
    }
    ForEachTable(reader, "match", diagnostics, kRuleShape,
                 [&](TableReader& entry, const toml::table& rule_table) {
                   FeatureMatchRule rule;
                   ReadRule(entry, rule_table, diagnostics, &rule);
                   feature->match.push_back(std::move(rule));
                 });
  }
  reader.ReadBool("enabled", &feature->enabled);
  reader.ReadBool("enforced", &feature->enforced);
  ReadWindow(reader, diagnostics, &feature->maintenance);
  reader.ReportUnknownKeys();
}

}  // namespace

void ReadFeaturesSection(const toml::table* table, Diagnostics* diagnostics,
                         std::vector<FeatureConfig>* out) {
  if (!table) return;
  for (const auto& [key, node] : *table) {
    std::string name(key.str());
    std::string path = "features." + name;
    if (!IsValidName(name)) {
      diagnostics->Add(key.source().begin.line > 0 ? key.source() : node.source(), path,
                       "feature names use 1-64 letters, digits, '_' or '-' (they appear in "
                       "admin API paths)");
      continue;
    }
    const toml::table* feature_table = node.as_table();
    if (!feature_table) {
      diagnostics->Add(node, path,
                       "expected a table [features." + name + "], got " + TypeName(node));
      continue;
    }
    FeatureConfig feature;
    feature.name = name;
    ReadFeature(feature_table, path, diagnostics, &feature);
    out->push_back(std::move(feature));
  }
}

}  // namespace tidegate::config
