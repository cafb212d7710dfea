#include "maintenance/maintenance_page.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "common/rfc3339.h"
#include "pages/incident_text.h"
#include "pages/local_time.h"

namespace tidegate::maintenance {

const char kBuiltinMaintenanceTemplate[] = R"(<!DOCTYPE html>
<html lang="{{lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{title}}{{#shop_name}} · {{shop_name}}{{/shop_name}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f6f7f9;color:#1d2430}
main{max-width:36rem;margin:12vh auto;padding:2rem;overflow-wrap:anywhere;background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08)}
h1{font-size:1.4rem;margin-top:0}.shop{color:#5b6575;font-size:.95rem}.until,.next{font-weight:600}
.incident{border-left:4px solid #b45309;padding:.1rem 0 .1rem .9rem;margin:1rem 0}.incident p{margin:.3rem 0}
.late{color:#8a1c17}a{color:#0b5cad}
</style>
</head>
<body>
<main>
{{#shop_name}}<p class="shop">{{shop_name}}</p>{{/shop_name}}
<h1>{{heading}}</h1>
{{^incident}}<p class="message">{{message}}</p>{{/incident}}
{{#incident}}<section class="incident" aria-labelledby="tg-incident">
<h2 id="tg-incident">{{incident_title}}</h2>
<p>{{incident_status}}</p>
<p class="message">{{message}}</p>
{{#next_update}}<p class="next{{#late}} late{{/late}}">{{next_update_label}} <time datetime="{{next_update_iso}}">{{next_update_clock}}</time> {{next_update_zone}}</p>{{/next_update}}
</section>{{/incident}}
{{#has_until}}<p class="until">{{until_label}} <time datetime="{{until_iso}}">{{until_text}}</time> {{until_zone}}</p>{{/has_until}}
<p>{{rest_of_shop}}</p>
<p><a href="/">{{home_label}}</a>{{#status_url}} · <a href="{{status_url}}">{{status_label}}</a>{{/status_url}}</p>
</main>
</body>
</html>
)";

namespace {

pages::TemplateData BaseData(const config::SiteConfig& site, pages::Language language) {
  bool fr = language == pages::Language::kFrench;
  pages::TemplateData data;
  data.set("lang", std::string(pages::LanguageCode(language)));
  data.set("title", fr ? "Maintenance en cours" : "Under maintenance");
  data.set("heading", fr ? "Cette partie de la boutique est momentanément indisponible"
                         : "This part of the shop is temporarily unavailable");
  data.set("default_message", fr ? "Nous y travaillons et revenons au plus vite."
                                 : "We are working on it and will be back shortly.");
  data.set("until_label", fr ? "Retour prévu :" : "Expected back:");
  data.set("rest_of_shop",
           fr ? "Le reste de la boutique reste ouvert." : "Everything else in the shop is open.");
  data.set("home_label", fr ? "Continuer mes achats" : "Continue shopping");
  data.set("status_label", fr ? "État du service" : "Service status");
  if (!site.name.empty()) {
    data.set("shop_name", site.name);
  } else {
    data.set("shop_name", false);
  }
  if (!site.status_page_url.empty()) {
    data.set("status_url", site.status_page_url);
  } else {
    data.set("status_url", false);
  }
  return data;
}

}  // namespace

std::unique_ptr<MaintenancePage> MaintenancePage::Create(const config::SiteConfig& site,
                                                         std::string* error) {
  auto page = pages::PageTemplate::Load(site.templates_dir, "maintenance.html",
                                        kBuiltinMaintenanceTemplate, error);
  if (!page) return nullptr;
  pages::Language fallback =
      pages::ParseLanguageCode(site.default_language).value_or(pages::Language::kEnglish);
  return std::unique_ptr<MaintenancePage>(new MaintenancePage(
      std::move(*page), BaseData(site, pages::Language::kEnglish),
      BaseData(site, pages::Language::kFrench), fallback, site.status_page_url));
}

const state::Incident* IncidentFor(const std::vector<state::Incident>& incidents,
                                   std::string_view feature) {
  // The same order as state::HeadlineIncident: most severe, then most recent.
  const state::Incident* best = nullptr;
  for (const state::Incident* incident : state::OpenIncidents(incidents)) {  // newest first
    if (incident->updates.empty()) continue;
    bool affects = std::find(incident->features.begin(), incident->features.end(), feature) !=
                   incident->features.end();
    if (affects && (!best || state::IncidentSeverity(incident->impact) >
                                 state::IncidentSeverity(best->impact))) {
      best = incident;
    }
  }
  if (best) return best;
  const state::Incident* headline = state::HeadlineIncident(incidents);
  return headline && !headline->updates.empty() ? headline : nullptr;
}

void MaintenancePage::SetIncident(const MaintenanceNotice& notice, pages::Language language,
                                  pages::TemplateData* data) const {
  const state::Incident& incident = *notice.incident;
  data->set("incident", true);
  data->set("incident_title", incident.title);
  data->set("incident_status", std::string(pages::IncidentStatusLabel(
                                   state::IncidentStatusName(incident.status), language)));
  data->set("message", incident.latest().message);
  if (auto next = incident.next_update_at()) {
    bool late = incident.update_overdue(notice.now);
    pages::TemplateData item;
    item.set("next_update_label", std::string(pages::NextUpdateLabel(late, language)));
    item.set("next_update_clock", pages::FormatClockOrDate(*next, notice.now, language));
    item.set("next_update_zone", pages::ZoneAbbreviation(*next));
    item.set("next_update_iso", pages::FormatIsoLocal(*next));
    item.set("late", pages::TemplateData(late));
    data->set("next_update", item);
  } else {
    data->set("next_update", false);
  }
  data->set("status_url", std::string(pages::StatusLink(status_page_url_, true)));
}

std::string MaintenancePage::RenderHtml(const MaintenanceNotice& notice,
                                        pages::Language language) const {
  pages::TemplateData data =
      language == pages::Language::kFrench ? french_ : english_;  // a small copy
  data.set("feature", std::string(notice.feature));
  if (notice.message.empty()) {
    data.set("message", data.get("default_message")->string_value());
  } else {
    data.set("message", std::string(notice.message));
  }
  if (notice.until && *notice.until > notice.now) {
    data.set("has_until", true);
    data.set("until_text", pages::FormatClockOrDate(*notice.until, notice.now, language));
    data.set("until_zone", pages::ZoneAbbreviation(*notice.until));
    data.set("until_iso", pages::FormatIsoLocal(*notice.until));
  } else {
    data.set("has_until", false);
  }
  if (notice.incident != nullptr) {
    SetIncident(notice, language, &data);
  } else {
    data.set("incident", false);
    data.set("next_update", false);
  }
  return template_.Render(data);
}

namespace {

// Whole seconds from `now` to `at`, rounded up, at least 1; nullopt when
// `at` is not ahead.
std::optional<int64_t> SecondsAhead(std::chrono::system_clock::time_point now,
                                    std::chrono::system_clock::time_point at) {
  if (at <= now) return std::nullopt;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(at - now);
  return std::max<int64_t>(1, (left.count() + 999) / 1000);
}

}  // namespace

std::optional<int64_t> MaintenancePage::SecondsUntilEnd(const MaintenanceNotice& notice) {
  if (!notice.until) return std::nullopt;
  return SecondsAhead(notice.now, *notice.until);
}

int64_t MaintenancePage::RetryAfterSeconds(const MaintenanceNotice& notice) {
  if (auto end = SecondsUntilEnd(notice)) return *end;
  if (notice.incident != nullptr) {
    if (auto next = notice.incident->next_update_at()) {
      if (auto ahead = SecondsAhead(notice.now, *next)) return *ahead;
    }
  }
  return kRetryAfterUnknownEnd;
}

std::string MaintenancePage::RenderJson(const MaintenanceNotice& notice) const {
  nlohmann::json body;
  body["error"] = "maintenance";
  body["feature"] = std::string(notice.feature);
  body["message"] = notice.message.empty() ? "This feature is temporarily unavailable."
                                           : std::string(notice.message);
  body["retry_after"] = RetryAfterSeconds(notice);
  body["until"] = SecondsUntilEnd(notice) ? nlohmann::json(common::FormatRfc3339(*notice.until))
                                          : nlohmann::json(nullptr);
  if (notice.incident != nullptr) {
    const state::Incident& incident = *notice.incident;
    nlohmann::json item = {{"id", incident.id},
                           {"title", incident.title},
                           {"status", state::IncidentStatusName(incident.status)},
                           {"message", incident.latest().message},
                           {"update_overdue", incident.update_overdue(notice.now)},
                           {"status_url", pages::StatusLink(status_page_url_, true)}};
    if (auto next = incident.next_update_at()) {
      item["next_update_at"] = common::FormatRfc3339(*next);
    }
    body["message"] = incident.latest().message;
    body["incident"] = std::move(item);
  }
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tidegate::maintenance
