// What a shopper or an API client receives when a feature is under
// maintenance: the HTML page (Mustache template "maintenance.html", built in,
// overridable by the merchant in [site].templates_dir) in English or French,
// and the JSON body for API clients.
//
// Contract: Create() on the control thread (reads the override file);
// RenderHtml()/RenderJson() are const and thread-safe (workers share one
// object). Everything that does not depend on the request — shop name,
// status link, the texts of each language — is prepared once in Create().
// Every value is HTML-escaped by the template engine (a message set through
// the admin API cannot inject markup).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "pages/language.h"
#include "pages/page_template.h"
#include "state/incident.h"

namespace tidegate::maintenance {

// The built-in template (documented in docs/maintenance.md: the variables a
// merchant's override may use).
extern const char kBuiltinMaintenanceTemplate[];

struct MaintenanceNotice {
  std::string_view feature;
  std::string_view message;  // "" = the default text of the language
  std::optional<std::chrono::system_clock::time_point> until;
  std::chrono::system_clock::time_point now;
  // The open incident behind the feature's maintenance (IncidentFor), or
  // null. When set, the page tells its title, status, latest message and
  // promised next update, and links the status page. Read during the call.
  const state::Incident* incident = nullptr;
};

// The open incident a maintenance page for `feature` tells about: the most
// severe open incident that affects `feature`, else the headline incident
// (state::HeadlineIncident), else nullptr. Points into `incidents`.
const state::Incident* IncidentFor(const std::vector<state::Incident>& incidents,
                                   std::string_view feature);

class MaintenancePage {
 public:
  static std::unique_ptr<MaintenancePage> Create(const config::SiteConfig& site,
                                                 std::string* error);

  std::string RenderHtml(const MaintenanceNotice& notice, pages::Language language) const;
  // {"error":"maintenance","feature":…,"message":…,"retry_after":N|null,"until":…|null}
  // plus, with an incident, "incident": {"id","title","status","message",
  // "next_update_at"?,"update_overdue","status_url"}.
  std::string RenderJson(const MaintenanceNotice& notice) const;
  // Seconds from now until `until` (at least 1), or nullopt when unknown/past.
  static std::optional<int64_t> SecondsUntilEnd(const MaintenanceNotice& notice);
  // The `Retry-After` every stopped request gets (at least 1): the seconds
  // until `until` when the end is known; else until the incident's promised
  // next update when there is one ahead; else kRetryAfterUnknownEnd.
  static int64_t RetryAfterSeconds(const MaintenanceNotice& notice);
  static constexpr int64_t kRetryAfterUnknownEnd = 300;

  pages::Language default_language() const { return default_language_; }
  const std::string& template_origin() const { return template_.origin(); }

 private:
  MaintenancePage(pages::PageTemplate page, pages::TemplateData en, pages::TemplateData fr,
                  pages::Language default_language, std::string status_page_url)
      : template_(std::move(page)),
        english_(std::move(en)),
        french_(std::move(fr)),
        default_language_(default_language),
        status_page_url_(std::move(status_page_url)) {}

  void SetIncident(const MaintenanceNotice& notice, pages::Language language,
                   pages::TemplateData* data) const;

  pages::PageTemplate template_;
  pages::TemplateData english_;  // shop name, status link, texts
  pages::TemplateData french_;
  pages::Language default_language_;
  std::string status_page_url_;  // [site].status_page_url
};

}  // namespace tidegate::maintenance
