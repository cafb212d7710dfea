#include "banner/banner_content.h"

#include <zlib.h>

#include <cstdio>

#include "pages/incident_text.h"
#include "pages/local_time.h"
#include "state/incident_changes.h"

namespace tidegate::banner {
namespace {

// One element, classes only; the <link> is allowed in <body> (body-ok).
constexpr std::string_view kTemplate =
    "<div class=\"tidegate-banner tidegate-banner--{{severity}}\" role=\"{{role}}\" "
    "lang=\"{{lang}}\" data-tidegate-banner>"
    "<link rel=\"stylesheet\" href=\"/.tidegate/assets/banner.css\">"
    "<p class=\"tidegate-banner__message\">{{message}}</p>"
    "{{#next_update}}<p class=\"tidegate-banner__next\">{{label}} "
    "<time datetime=\"{{iso}}\">{{clock}}</time> {{zone}}</p>{{/next_update}}"
    "{{#status_url}}<a class=\"tidegate-banner__link\" href=\"{{status_url}}\">"
    "{{status_label}}</a>{{/status_url}}"
    "</div>";

constexpr std::string_view kStylesheet = R"css(.tidegate-banner {
  box-sizing: border-box;
  display: flex;
  flex-wrap: wrap;
  align-items: baseline;
  gap: 0.25rem 1rem;
  width: 100%;
  margin: 0;
  padding: 0.6rem 1rem;
  font: 500 1rem/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #0b2540;
  background: #dbeafe;
  border-bottom: 2px solid #3b82f6;
  overflow-wrap: anywhere;
}
.tidegate-banner p { margin: 0; min-width: 0; }
.tidegate-banner__next { font-weight: 400; }
.tidegate-banner__link { color: inherit; text-decoration: underline; }
.tidegate-banner--warning { color: #3b2a00; background: #fef3c7; border-color: #d97706; }
.tidegate-banner--critical { color: #ffffff; background: #b91c1c; border-color: #7f1d1d; }
@media print { .tidegate-banner { display: none; } }
)css";

}  // namespace

std::unique_ptr<BannerContent> BannerContent::Create(const config::SiteConfig& site,
                                                     std::string* error) {
  std::optional<pages::PageTemplate> page =
      pages::PageTemplate::Load(site.templates_dir, "banner.html", kTemplate, error);
  if (!page) return nullptr;
  return std::unique_ptr<BannerContent>(new BannerContent(std::move(*page), site.status_page_url));
}

std::string BannerContent::Render(const state::EffectiveBanner& banner, pages::Language language,
                                  common::TimePoint now) const {
  static const state::RuntimeState kNoState;
  return Render(banner, kNoState, language, now);
}

std::string BannerContent::Render(const state::EffectiveBanner& banner,
                                  const state::RuntimeState& state, pages::Language language,
                                  common::TimePoint now) const {
  const state::Incident* incident = IncidentOf(banner, state);
  const std::string& message = incident ? incident->latest().message : banner.message;
  std::optional<common::TimePoint> next =
      incident ? incident->next_update_at() : banner.next_update_at;
  pages::TemplateData data;
  data.set("message", message);
  // An incident's banner takes its severity from the incident's impact.
  const std::string severity =
      incident ? std::string(state::BannerSeverityFor(incident->impact)) : banner.severity;
  data.set("severity", severity);
  data.set("role", severity == "critical" ? "alert" : "status");
  data.set("lang", std::string(pages::LanguageCode(language)));
  if (next) {
    pages::TemplateData item;
    bool late = pages::UpdateLate(*next, now);
    item.set("label", std::string(pages::NextUpdateLabel(late, language)));
    item.set("clock", pages::FormatClockOrDate(*next, now, language));
    item.set("zone", pages::ZoneAbbreviation(*next));
    item.set("iso", pages::FormatIsoLocal(*next));
    item.set("late", pages::TemplateData(late));
    data.set("next_update", item);
  } else {
    data.set("next_update", false);
  }
  std::string_view link =
      pages::StatusLink(status_page_url_, state::HeadlineIncident(state.incidents) != nullptr);
  if (!link.empty()) {
    data.set("status_url", std::string(link));
    data.set("status_label", std::string(pages::StatusLinkLabel(language)));
  } else {
    data.set("status_url", false);
  }
  return page_.Render(data);
}

const state::Incident* BannerContent::IncidentOf(const state::EffectiveBanner& banner,
                                                 const state::RuntimeState& state) {
  if (banner.source != state::ValueSource::kRuntime) return nullptr;
  return state::IncidentOnBanner(state);
}

std::string_view BannerContent::Stylesheet() { return kStylesheet; }

const std::string& BannerContent::StylesheetEtag() {
  static const std::string etag = [] {
    uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(kStylesheet.data()),
                      static_cast<uInt>(kStylesheet.size()));
    char text[32];
    std::snprintf(text, sizeof(text), "\"tg-%08lx\"", static_cast<unsigned long>(crc));
    return std::string(text);
  }();
  return etag;
}

std::string_view BannerContent::BuiltinTemplate() { return kTemplate; }

}  // namespace tidegate::banner
