// [features.NAME]: parts of the shop that can be put under maintenance.
#include <cctype>

#include "config/pattern_check.h"
#include "config/sections.h"
#include "config/table_reader.h"
#include "config/value_parsers.h"

namespace tidegate::config {
namespace {

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
      if (!IsHttpToken(rule->methods[i])) {
        diagnostics->Add(*array.get(i), entry.KeyPath("methods") + "[" + std::to_string(i) + "]",
                         "\"" + rule->methods[i] + "\" is not an HTTP method");
      }
      rule->methods[i] = Upper(rule->methods[i]);
    }
  }
  if (entry.ReadString("host", &rule->host)) {
    if (rule->host.empty() || rule->host.find_first_of(" \t/") != std::string::npos) {
      entry.Error(*table.get("host"), "host", "expected a host name such as \"shop.example\"");
    }
    rule->host = Lower(rule->host);
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

void ReadFeature(const toml::table* table, const std::string& path, Diagnostics* diagnostics,
                 FeatureConfig* feature) {
  TableReader reader(table, path, diagnostics);
  if (reader.Require("match")) {
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
