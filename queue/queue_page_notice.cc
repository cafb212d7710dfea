#include "queue/queue_page_notice.h"

#include <atomic>
#include <chrono>

#include "pages/html_escape.h"
#include "pages/incident_text.h"
#include "pages/local_time.h"
#include "state/effective_view.h"

namespace tidegate::queue {
namespace {

void AppendNextUpdate(common::TimePoint next, common::TimePoint now, pages::Language language,
                      std::string* out) {
  bool late = pages::UpdateLate(next, now);
  *out += late ? "<p class=\"tg-notice__next tg-notice__late\">" : "<p class=\"tg-notice__next\">";
  pages::AppendEscapedHtml(pages::NextUpdateLabel(late, language), out);
  *out += " <time datetime=\"" + pages::FormatIsoLocal(next) + "\">";
  pages::AppendEscapedHtml(pages::FormatClockOrDate(next, now, language), out);
  *out += "</time> " + pages::ZoneAbbreviation(next) + "</p>";
}

void AppendLink(std::string_view url, pages::Language language, std::string* out) {
  if (url.empty()) return;
  *out += "<p><a href=\"";
  pages::AppendEscapedHtml(url, out);
  *out += "\">";
  pages::AppendEscapedHtml(pages::StatusLinkLabel(language), out);
  *out += "</a></p>";
}

}  // namespace

std::string QueuePageNotice::Render(const config::BannerConfig& banner,
                                    std::string_view status_page_url,
                                    const state::RuntimeState& state, pages::Language language,
                                    common::TimePoint now) {
  std::string out;
  bool french = language == pages::Language::kFrench;
  if (const state::Incident* incident = state::HeadlineIncident(state.incidents);
      incident != nullptr && !incident->updates.empty()) {
    std::string_view impact = state::IncidentImpactName(incident->impact);
    out += "<section class=\"tg-notice tg-notice--" + std::string(impact) + "\" aria-label=\"";
    out += french ? "Incident en cours" : "Current incident";
    out += "\"><p><strong>";
    pages::AppendEscapedHtml(incident->title, &out);
    out += "</strong> · ";
    pages::AppendEscapedHtml(
        pages::IncidentStatusLabel(state::IncidentStatusName(incident->status), language), &out);
    out += "</p><p>";
    pages::AppendEscapedHtml(incident->latest().message, &out);
    out += "</p>";
    if (auto next = incident->next_update_at()) AppendNextUpdate(*next, now, language, &out);
    AppendLink(pages::StatusLink(status_page_url, true), language, &out);
    out += "</section>";
    return out;
  }
  state::EffectiveBanner effective = state::EffectiveBannerSettings(banner, state, now);
  if (!effective.enabled) return out;
  out += "<section class=\"tg-notice tg-notice--" + pages::EscapeHtml(effective.severity) +
         "\" aria-label=\"";
  out += french ? "Avis" : "Notice";
  out += "\"><p>";
  pages::AppendEscapedHtml(effective.message, &out);
  out += "</p>";
  if (effective.next_update_at) AppendNextUpdate(*effective.next_update_at, now, language, &out);
  AppendLink(pages::StatusLink(status_page_url, false), language, &out);
  out += "</section>";
  return out;
}

uint64_t QueuePageNotice::NextGeneration() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

void QueuePageNotice::Append(pages::Language language, std::string* out) const {
  if (runtime_state_ == nullptr && !banner_.enabled) return;
  static const state::RuntimeState kNoState;
  const state::RuntimeState& state = runtime_state_ ? runtime_state_->Get() : kNoState;
  // The common case, nothing in force, costs this test only.
  if (state.incidents.empty() && !state.banner && !banner_.enabled) return;
  common::TimePoint now = time_.WallNow();
  int64_t minute = std::chrono::duration_cast<std::chrono::minutes>(now.time_since_epoch()).count();
  // Per worker thread: no lock. A published state is a new object with a
  // new version; both are compared.
  struct Cache {
    uint64_t generation = 0;
    const state::RuntimeState* state = nullptr;
    uint64_t version = 0;
    int64_t minute = 0;
    bool rendered[2] = {false, false};
    std::string html[2];
  };
  static thread_local Cache cache;
  if (cache.generation != generation_ || cache.state != &state || cache.version != state.version ||
      cache.minute != minute) {
    cache = Cache{generation_, &state, state.version, minute};
  }
  size_t slot = language == pages::Language::kFrench ? 1 : 0;
  if (!cache.rendered[slot]) {
    cache.html[slot] = Render(banner_, status_page_url_, state, language, now);
    cache.rendered[slot] = true;
  }
  *out += cache.html[slot];
}

}  // namespace tidegate::queue
