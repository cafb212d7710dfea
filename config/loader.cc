// Reading files, parsing TOML, the directory merge, and the top-level keys.
#include "config/loader.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include <toml++/toml.h>

#include "config/diagnostics.h"
#include "config/file_checks.h"
#include "config/merge.h"
#include "config/sections.h"
#include "config/table_reader.h"

namespace tidegate::config {
namespace {

struct SourceFile {
  std::string name;
  std::string text;
};

// Remembers where the keys that name files and folders were set: those are
// opened after loading (app/config_checks.h), whose errors name the key.
void RecordPositions(const toml::table& root, Config* config) {
  auto record = [&](const std::string& path) {
    const toml::node* node = toml::at_path(root, path).node();
    if (node == nullptr) return;
    const toml::source_region& where = node->source();
    config->positions[path] =
        KeyPosition{where.path ? *where.path : std::string(), static_cast<int>(where.begin.line),
                    static_cast<int>(where.begin.column)};
  };
  for (const char* key : {"server.access_log", "server.error_log", "admin.audit_log",
                          "admin.tls.cert", "admin.tls.key", "state.path", "site.templates_dir"}) {
    record(key);
  }
  if (config->server.tls) {
    for (size_t i = 0; i < config->server.tls->certificates.size(); ++i) {
      std::string entry = "server.tls.certificates[" + std::to_string(i) + "]";
      record(entry + ".cert");
      record(entry + ".key");
    }
  }
}

// Builds a Config from the merged document; every problem goes to `diagnostics`.
std::shared_ptr<Config> Build(const toml::table& root, Diagnostics* diagnostics) {
  auto config = std::make_shared<Config>();
  TableReader top(&root, "", diagnostics);
  const toml::table* server = top.ReadTable("server");
  const toml::table* upstream = top.ReadTable("upstream");
  // A missing section is reported by its required keys.
  ReadServerSection(server, diagnostics, &config->server);
  ReadUpstreamSection(upstream, diagnostics, &config->upstream);
  ReadStateSection(top.ReadTable("state"), diagnostics, &config->state);
  ReadAdminSection(top.ReadTable("admin"), diagnostics, &config->admin);
  ReadSecretsSection(top.ReadTable("secrets"), diagnostics, &config->secrets);
  ReadRoomsSection(top.ReadTable("rooms"), diagnostics, &config->rooms);
  ReadFeaturesSection(top.ReadTable("features"), diagnostics, &config->features);
  ReadBannerSection(top.ReadTable("banner"), diagnostics, &config->banner);
  ReadSiteSection(top.ReadTable("site"), diagnostics, &config->site);
  ReadMaintenanceSection(top.ReadTable("maintenance"), diagnostics, &config->maintenance);
  ReadNotifySection(top.ReadTable("notify"), diagnostics, &config->notify);
  top.ReportUnknownKeys();
  CheckCrossSection(root, *config, diagnostics);
  CheckRoomShadowing(root, *config, &config->warnings);
  RecordPositions(root, config.get());
  return config;
}

// A name a merchant meant as a configuration file that the directory merge
// does not read: ".toml" in another case ("25-sale.TOML") or ".tml".
bool LooksLikeTomlButIsNot(const std::string& file) {
  size_t dot = file.rfind('.');
  if (dot == std::string::npos || dot == 0) return false;
  std::string ext = file.substr(dot);
  if (ext == ".toml") return false;
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".toml" || ext == ".tml";
}

// `order`: every file name in merge order, including those that could not
// be read (their errors are already in `diagnostics`), to sort errors by.
// `not_read`: the files LooksLikeTomlButIsNot() kept out, each a warning.
LoadResult LoadSources(const std::vector<SourceFile>& sources, Diagnostics diagnostics,
                       std::vector<std::string> order,
                       const std::vector<std::string>& not_read = {}) {
  toml::table merged;
  bool parsed_all = true;
  for (const SourceFile& source : sources) {
    try {
      toml::table table = toml::parse(source.text, source.name);
      MergeTables(merged, std::move(table), "", &diagnostics);
    } catch (const toml::parse_error& error) {
      // Config time only: toml++ reports syntax errors by exception.
      diagnostics.Add(error.source(), "", std::string(error.description()));
      parsed_all = false;
    }
  }

  LoadResult result;
  // Validating a document with holes would only add noise to the syntax errors.
  std::shared_ptr<Config> config;
  if (parsed_all) config = Build(merged, &diagnostics);
  if (diagnostics.empty() && config) {
    std::vector<std::string> warnings;
    for (const std::string& file : not_read) {
      warnings.push_back(file + ": warning: not read: only *.toml files are");
    }
    config->warnings.insert(config->warnings.begin(), warnings.begin(), warnings.end());
    config->source_files = order;
    result.config = std::move(config);
  }
  result.errors = diagnostics.Take(order);
  return result;
}

}  // namespace

LoadResult LoadConfigFromStrings(const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<SourceFile> sources;
  for (const auto& [name, text] : files) sources.push_back({name, text});
  Diagnostics diagnostics(files.empty() ? std::string("(no file)") : files.front().first);
  if (files.empty()) {
    diagnostics.AddGlobal("", "no configuration files given");
    LoadResult result;
    result.errors = diagnostics.Take({});
    return result;
  }
  std::vector<std::string> order;
  for (const SourceFile& source : sources) order.push_back(source.name);
  return LoadSources(sources, std::move(diagnostics), std::move(order));
}

LoadResult LoadConfig(const std::string& path) {
  namespace fs = std::filesystem;
  Diagnostics diagnostics(path);
  std::vector<std::string> names;
  std::vector<std::pair<std::string, std::string>> unreadable;  // file, why
  std::vector<std::string> not_read;  // "25-sale.TOML", "30-x.tml": warned about
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const fs::directory_entry& entry : fs::directory_iterator(path, ec)) {
      std::string file = entry.path().filename().string();
      // Editors leave ".#00-server.toml" and similar behind: skip hidden files.
      if (file.empty() || file[0] == '.') continue;
      if (LooksLikeTomlButIsNot(file)) {
        not_read.push_back(entry.path().string());
        continue;
      }
      if (entry.path().extension() != ".toml") continue;
      // Its own error code: a dangling symbolic link named *.toml is that
      // file's error, not the directory's (audit 10 F6), and the other
      // files are still listed.
      std::error_code entry_ec;
      bool regular = entry.is_regular_file(entry_ec);
      if (entry_ec) {
        std::string message = "cannot read: " + entry_ec.message();
        if (entry.is_symlink(entry_ec)) message += " (a dangling symbolic link?)";
        unreadable.emplace_back(entry.path().string(), std::move(message));
        names.push_back(entry.path().string());
        continue;
      }
      if (!regular) continue;
      names.push_back(entry.path().string());
    }
    if (ec) diagnostics.AddFile(path, "cannot list directory: " + ec.message());
    // Lexical order of the file names ("00-server.toml" before "10-upstream.toml").
    std::sort(names.begin(), names.end());
    std::sort(not_read.begin(), not_read.end());
    if (names.empty() && !ec) {
      std::string near;
      for (const std::string& file : not_read) {
        near += (near.empty() ? "" : ", ") + fs::path(file).filename().string();
      }
      diagnostics.AddFile(
          path, "the directory holds no *.toml file" +
                    (near.empty() ? std::string() : " (" + near + ": only *.toml files are read)"));
    }
  } else {
    names.push_back(path);
  }

  for (auto& [file, why] : unreadable) diagnostics.AddFile(file, std::move(why));
  std::vector<SourceFile> sources;
  for (const std::string& name : names) {
    if (std::any_of(unreadable.begin(), unreadable.end(),
                    [&](const auto& u) { return u.first == name; })) {
      continue;
    }
    std::string error;
    std::optional<std::string> text = ReadWholeFile(name, &error);
    if (!text) {
      diagnostics.AddFile(name, error);
      continue;
    }
    sources.push_back({name, std::move(*text)});
  }
  if (sources.empty()) {
    LoadResult result;
    result.errors = diagnostics.Take(names);
    return result;
  }
  // The readable files are still checked when another one is not: every
  // error at once. No Config is returned while `diagnostics` holds one.
  return LoadSources(sources, std::move(diagnostics), names, not_read);
}

}  // namespace tidegate::config
