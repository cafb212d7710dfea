// [site]: presentation of tidegate's own pages (shop name, status page link,
// time zone, default language, merchant template overrides).
#include <sys/stat.h>

#include "config/file_checks.h"
#include "config/sections.h"
#include "config/table_reader.h"

namespace tidegate::config {
namespace {

// An IANA zone name: letters, digits, '_', '-', '+', '/' segments, no "..",
// and a file under /usr/share/zoneinfo (Debian's tzdata).
bool IsKnownTimeZone(const std::string& name) {
  if (name.empty() || name.front() == '/' || name.find("..") != std::string::npos) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '+' || c == '/';
    if (!ok) return false;
  }
  if (name == "UTC") return true;
  struct stat st {};
  return stat(("/usr/share/zoneinfo/" + name).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

void ReadSiteSection(const toml::table* table, Diagnostics* diagnostics, SiteConfig* out) {
  TableReader site(table, "site", diagnostics);
  site.ReadString("name", &out->name);
  if (site.ReadString("status_page_url", &out->status_page_url) && !out->status_page_url.empty() &&
      out->status_page_url.rfind("https://", 0) != 0 &&
      out->status_page_url.rfind("http://", 0) != 0 && out->status_page_url.front() != '/') {
    site.Error(*table->get("status_page_url"), "status_page_url",
               "must be an http(s):// URL or a path starting with /");
  }
  if (site.ReadString("time_zone", &out->time_zone) && !IsKnownTimeZone(out->time_zone)) {
    site.Error(*table->get("time_zone"), "time_zone",
               "\"" + out->time_zone +
                   "\" is not a time zone of /usr/share/zoneinfo (write e.g. \"Europe/Paris\")");
  }
  site.ReadEnum<std::string>("default_language", {{"en", "en"}, {"fr", "fr"}},
                             &out->default_language);
  if (site.ReadString("templates_dir", &out->templates_dir) && !out->templates_dir.empty()) {
    out->templates_dir = ResolvePath(FolderOf(*table->get("templates_dir")), out->templates_dir);
    struct stat st {};
    if (stat(out->templates_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      site.Error(*table->get("templates_dir"), "templates_dir",
                 "\"" + out->templates_dir + "\" is not a readable directory");
    }
  }
  // 0 = the status page lists no past incident; the cap keeps the state
  // (shared by every instance through Redis) from growing for years.
  site.ReadInt("status_history_days", 0, 3650, &out->status_history_days);
  site.ReportUnknownKeys();
}

}  // namespace tidegate::config
