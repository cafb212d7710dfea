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
};

}  // namespace tidegate::queue
