// What the banner looks like: the HTML inserted after <body …> (a Mustache
// template, merchant-overridable as banner.html in [site].templates_dir) and
// the stylesheet tidegate serves at /.tidegate/assets/banner.css.
// Template variables: message, severity, role, lang, the section
// next_update (label, clock, zone, iso, late) and status_url/status_label
// (docs/banner.md).
//
// No inline script or style: the markup links the stylesheet and uses
// classes only, so it renders under `Content-Security-Policy: style-src
// 'self'`. Every value is HTML-escaped by the template engine.
//
// Contract: Create() runs on the control thread (it may read the override
// file) and fails with *error when the override cannot be read or parsed.
// The object is then immutable; Render() is const and thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "pages/language.h"
#include "pages/page_template.h"
#include "state/effective_view.h"

namespace tidegate::banner {

inline constexpr std::string_view kStylesheetPath = "/.tidegate/assets/banner.css";

class BannerContent {
 public:
  static std::unique_ptr<BannerContent> Create(const config::SiteConfig& site, std::string* error);

  // The banner's HTML for `banner` (in force) in `language`. The next-update
  // time is shown in the shop's time zone with its abbreviation: "14:30 CET"
  // on the day of `now`, "24 Nov 14:30 CET" otherwise; once it passed, the
  // banner says the update is late.
  //
  // With `state`: a banner set by an open incident (BannerOverride's
  // incident_id) tells an incident's latest message, promised next update
  // and severity (from its impact) — IncidentOf() says which (docs/incidents.md)
  // — and the status page is linked
  // ([site].status_page_url, or /.tidegate/status while an incident is
  // open). `state` is only read during the call.
  std::string Render(const state::EffectiveBanner& banner, const state::RuntimeState& state,
                     pages::Language language, common::TimePoint now) const;
  // Without run-time state: the banner as given, linked only to
  // [site].status_page_url.
  std::string Render(const state::EffectiveBanner& banner, pages::Language language,
                     common::TimePoint now) const;
  // The open incident the banner tells about, or nullptr: while the banner
  // in force is the run-time one, state::IncidentOnBanner().
  static const state::Incident* IncidentOf(const state::EffectiveBanner& banner,
                                           const state::RuntimeState& state);

  static std::string_view Stylesheet();
  // A strong validator of Stylesheet() (quoted, e.g. "\"tg-3f2a…\"").
  static const std::string& StylesheetEtag();
  // The built-in banner.html.
  static std::string_view BuiltinTemplate();

 private:
  BannerContent(pages::PageTemplate page, std::string status_page_url)
      : page_(std::move(page)), status_page_url_(std::move(status_page_url)) {}
  pages::PageTemplate page_;
  std::string status_page_url_;
};

}  // namespace tidegate::banner
