// What the queue page tells a waiting shopper about the shop besides their
// place in line: the open incident shoppers read about on every page
// (state::HeadlineIncident: its title, status, latest message and promised
// next update, with a link to the status page), or else the banner in force
// ([banner] / PUT /v1/banner) — the queue page shows what the banner shows
// everywhere else. The queue page splices it in per request at its
// {{notice}} slot (queue/queue_page.h); nothing is in force → nothing is
// written, at the cost of one state read. The HTML is rendered once per
// worker thread, language, state and minute (the "late" wording appears
// within a minute of the promised time, like the banner's), then copied.
//
// Contract: built on the control thread per configuration, immutable, used
// by every worker (Append is const and thread-safe). `runtime_state` (may
// be null: no run-time state) and `time` must outlive it. Every value is
// HTML-escaped.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "common/time_source.h"
#include "config/config.h"
#include "pages/language.h"
#include "proxy/published.h"
#include "state/runtime_state.h"

namespace tidegate::queue {

class QueuePageNotice {
 public:
  QueuePageNotice(const config::Config& config,
                  const proxy::Published<state::RuntimeState>* runtime_state,
                  const common::TimeSource& time)
      : banner_(config.banner),
        status_page_url_(config.site.status_page_url),
        runtime_state_(runtime_state),
        time_(time),
        generation_(NextGeneration()) {}

  // Appends the notice in force at time.WallNow() to *out.
  void Append(pages::Language language, std::string* out) const;

  // The notice in force at time.WallNow() for the queue page's poll
  // (GET /.tidegate/queue, `shop_notice`; docs/waiting-room.md): null when
  // nothing is in force. Cached like Append's HTML.
  nlohmann::json Json(pages::Language language) const;

  // The JSON for `state` at `now`: {"kind": "incident", "id", "title",
  // "status", "impact", "message", "next_update_at" (RFC 3339 or null),
  // "late", "status_url" (or null), "html"} for the headline incident, else
  // {"kind": "banner", "severity", "message", "next_update_at", "late",
  // "status_url", "html"} for the banner in force, else null. `html` is
  // Render()'s (what the page shows at its {{notice}} slot).
  static nlohmann::json RenderJson(const config::BannerConfig& banner,
                                   std::string_view status_page_url,
                                   const state::RuntimeState& state, pages::Language language,
                                   common::TimePoint now);

  // The notice's HTML for `state` at `now` ("" when nothing is in force).
  static std::string Render(const config::BannerConfig& banner, std::string_view status_page_url,
                            const state::RuntimeState& state, pages::Language language,
                            common::TimePoint now);

 private:
  config::BannerConfig banner_;
  std::string status_page_url_;
  const proxy::Published<state::RuntimeState>* runtime_state_;
  const common::TimeSource& time_;
  uint64_t generation_;  // tells this object's cached HTML from another's

  static uint64_t NextGeneration();
  struct Cached {
    bool rendered = false;
    std::string html;
    nlohmann::json json;
  };
  // This thread's rendering for the state and minute in force; null when
  // nothing can be in force (the common case: one state read).
  const Cached* Current(pages::Language language) const;
};

}  // namespace tidegate::queue
