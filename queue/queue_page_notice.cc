#include "queue/queue_page_notice.h"

#include <atomic>
#include <chrono>

#include "common/rfc3339.h"
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

nlohmann::json QueuePageNotice::RenderJson(const config::BannerConfig& banner,
                                           std::string_view status_page_url,
                                           const state::RuntimeState& state,
                                           pages::Language language, common::TimePoint now) {
  std::string html = Render(banner, status_page_url, state, language, now);
  if (html.empty()) return nullptr;
  nlohmann::json j;
  std::optional<common::TimePoint> next;
  bool incident_open = false;
  if (const state::Incident* incident = state::HeadlineIncident(state.incidents);
      incident != nullptr && !incident->updates.empty()) {
    incident_open = true;
    j["kind"] = "incident";
    j["id"] = incident->id;
    j["title"] = incident->title;
    j["status"] = std::string(state::IncidentStatusName(incident->status));
    j["impact"] = std::string(state::IncidentImpactName(incident->impact));
    j["message"] = incident->latest().message;
    next = incident->next_update_at();
  } else {
    state::EffectiveBanner effective = state::EffectiveBannerSettings(banner, state, now);
    j["kind"] = "banner";
    j["severity"] = effective.severity;
    j["message"] = effective.message;
    next = effective.next_update_at;
  }
  j["next_update_at"] = next ? nlohmann::json(common::FormatRfc3339(*next)) : nullptr;
  j["late"] = next && pages::UpdateLate(*next, now);
  std::string_view link = pages::StatusLink(status_page_url, incident_open);
  j["status_url"] = link.empty() ? nlohmann::json(nullptr) : nlohmann::json(std::string(link));
  j["html"] = std::move(html);
  return j;
}

uint64_t QueuePageNotice::NextGeneration() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

const QueuePageNotice::Cached* QueuePageNotice::Current(pages::Language language) const {
  if (runtime_state_ == nullptr && !banner_.enabled) return nullptr;
  static const state::RuntimeState kNoState;
  const state::RuntimeState& state = runtime_state_ ? runtime_state_->Get() : kNoState;
  // The common case, nothing in force, costs this test only.
  if (state.incidents.empty() && !state.banner && !banner_.enabled) return nullptr;
  common::TimePoint now = time_.WallNow();
  int64_t minute = std::chrono::duration_cast<std::chrono::minutes>(now.time_since_epoch()).count();
  // Per worker thread: no lock. A published state is a new object with a
  // new version; both are compared.
  struct Cache {
    uint64_t generation = 0;
    const state::RuntimeState* state = nullptr;
    uint64_t version = 0;
    int64_t minute = 0;
    Cached slots[2];
  };
  static thread_local Cache cache;
  if (cache.generation != generation_ || cache.state != &state || cache.version != state.version ||
      cache.minute != minute) {
    cache = Cache{generation_, &state, state.version, minute, {}};
  }
  Cached& c = cache.slots[language == pages::Language::kFrench ? 1 : 0];
  if (!c.rendered) {
    c.json = RenderJson(banner_, status_page_url_, state, language, now);
    if (c.json.is_object()) c.html = c.json["html"].get<std::string>();
    c.rendered = true;
  }
  return &c;
}

void QueuePageNotice::Append(pages::Language language, std::string* out) const {
  if (const Cached* c = Current(language)) *out += c->html;
}

nlohmann::json QueuePageNotice::Json(pages::Language language) const {
  const Cached* c = Current(language);
  return c ? c->json : nlohmann::json(nullptr);
}

}  // namespace tidegate::queue
