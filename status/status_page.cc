#include "status/status_page.h"

#include "pages/language.h"
#include "pages/local_time.h"
#include "proxy/path_normalizer.h"
#include "status/incidents.h"
#include "status/status_template.h"

namespace tidegate::status {
namespace {

struct Strings {
  const char* title;
  const char* operational;
  const char* degraded;
  const char* partial_outage;
  const char* notice;
  const char* maintenance;
  const char* planned;
  const char* from;
  const char* until;
  const char* next_update;
  const char* updated;
};

constexpr Strings kEnglish = {"Service status",
                              "All systems are working normally.",
                              "The shop is working, with a notice below.",
                              "Part of the shop is unavailable right now.",
                              "Notice",
                              "Maintenance",
                              "Planned maintenance",
                              "From",
                              "Expected back at",
                              "Next update at",
                              "Updated at"};
constexpr Strings kFrench = {"État du service",
                             "Tous les services fonctionnent normalement.",
                             "La boutique fonctionne ; voir l’avis ci-dessous.",
                             "Une partie de la boutique est indisponible en ce moment.",
                             "Avis",
                             "Maintenance",
                             "Maintenance prévue",
                             "À partir de",
                             "Retour prévu à",
                             "Prochaine mise à jour à",
                             "Mis à jour à"};

bool WantsJsonPath(std::string_view path) { return path == "/.tidegate/status.json"; }

class StatusPageFilter : public proxy::StreamFilter {
 public:
  StatusPageFilter(const StatusPageFactory& factory, proxy::FilterCallbacks& callbacks)
      : factory_(factory), callbacks_(callbacks) {}

  proxy::FilterStatus OnRequestHeaders(proxy::RequestHead& head) override {
    // The router gives us only our routes; the format is the path's.
    std::string path =
        proxy::NormalizePath(head.target, {.strip_segment_params = true, .lower_case = true});
    StatusPageFactory::Format format;
    const char* content_type;
    if (path == "/.tidegate/status" || path == "/.tidegate/status/") {
      format = StatusPageFactory::Format::kHtml;
      content_type = "text/html; charset=utf-8";
    } else if (WantsJsonPath(path)) {
      format = StatusPageFactory::Format::kJson;
      content_type = "application/json";
    } else if (path == "/.tidegate/status.atom") {
      format = StatusPageFactory::Format::kAtom;
      content_type = "application/atom+xml; charset=utf-8";
    } else {
      return proxy::FilterStatus::kContinue;
    }
    proxy::HeaderList headers;
    if (head.method != "GET" && head.method != "HEAD") {
      headers.Add("Allow", "GET, HEAD");
      headers.Add("Content-Type", "text/plain; charset=utf-8");
      callbacks_.SendLocalReply(405, std::move(headers), "method not allowed\n",
                                proxy::Answerer::kBuiltin);
      return proxy::FilterStatus::kStop;
    }
    const std::string* accept_language = head.headers.Find("Accept-Language");
    std::string base_url = std::string(callbacks_.stream_info().tls ? "https://" : "http://") +
                           (head.host.empty() ? "localhost" : head.host);
    std::string body = factory_.Render(format, accept_language ? *accept_language : "", base_url,
                                       std::chrono::system_clock::now());
    headers.Add("Content-Type", content_type);
    headers.Add("Cache-Control", "public, max-age=5");
    headers.Add("Vary", "Accept-Language");
    headers.Add("X-Content-Type-Options", "nosniff");
    if (format == StatusPageFactory::Format::kHtml) {
      headers.Add("Content-Security-Policy",
                  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                  "frame-ancestors 'none'");
    }
    callbacks_.SendLocalReply(200, std::move(headers), std::move(body), proxy::Answerer::kBuiltin);
    return proxy::FilterStatus::kStop;
  }

 private:
  const StatusPageFactory& factory_;
  proxy::FilterCallbacks& callbacks_;
};

}  // namespace

std::unique_ptr<StatusPageFactory> StatusPageFactory::Create(
    const config::Config& config, const proxy::Published<admin::RuntimeState>* runtime_state,
    std::string* error) {
  auto page = pages::PageTemplate::Load(config.site.templates_dir, "status.html",
                                        kBuiltinStatusTemplate, error);
  if (!page) return nullptr;
  return std::unique_ptr<StatusPageFactory>(
      new StatusPageFactory(config, runtime_state, std::move(*page)));
}

StatusPageFactory::StatusPageFactory(const config::Config& config,
                                     const proxy::Published<admin::RuntimeState>* runtime_state,
                                     pages::PageTemplate page)
    : config_(config), runtime_state_(runtime_state), page_(std::move(page)) {}

std::unique_ptr<proxy::StreamFilter> StatusPageFactory::CreateFilter(
    proxy::FilterCallbacks& callbacks) const {
  return std::make_unique<StatusPageFilter>(*this, callbacks);
}

std::string StatusPageFactory::Render(Format format, std::string_view accept_language,
                                      const std::string& base_url, admin::TimePoint now) const {
  const admin::RuntimeState& state = runtime_state_->Get();
  std::vector<Incident> incidents = CurrentIncidents(config_, state, now);
  if (format == Format::kJson) return StatusJson(config_, incidents, now).dump(2) + "\n";
  if (format == Format::kAtom) return StatusAtom(config_, incidents, now, base_url);

  pages::Language fallback =
      pages::ParseLanguageCode(config_.site.default_language).value_or(pages::Language::kEnglish);
  pages::Language language = pages::PickLanguage(accept_language, fallback);
  const Strings& s = language == pages::Language::kFrench ? kFrench : kEnglish;
  std::string status = OverallStatus(incidents);
  pages::TemplateData data;
  data.set("lang", std::string(pages::LanguageCode(language)));
  data.set("title",
           config_.site.name.empty() ? std::string(s.title) : config_.site.name + " — " + s.title);
  data.set("status", status);
  data.set("status_text", status == "operational" ? s.operational
                          : status == "degraded"  ? s.degraded
                                                  : s.partial_outage);
  data.set("has_incidents",
           pages::TemplateData(!incidents.empty() ? pages::TemplateData::type::bool_true
                                                  : pages::TemplateData::type::bool_false));
  pages::TemplateData list{pages::TemplateData::type::list};
  for (const Incident& i : incidents) {
    pages::TemplateData item;
    std::string heading;
    if (i.kind == Incident::Kind::kBanner) {
      heading = s.notice;
    } else {
      heading = std::string(i.phase == admin::Phase::kScheduled ? s.planned : s.maintenance) +
                ": " + i.feature;
    }
    item.set("heading", heading);
    item.set("message", i.message);
    item.set("severity", i.severity);
    std::string window;
    if (i.phase == admin::Phase::kScheduled && i.starts_at) {
      window = std::string(s.from) + " " + pages::FormatClockOrDate(*i.starts_at, now, language);
    }
    if (i.until && i.kind == Incident::Kind::kMaintenance) {
      if (!window.empty()) window += " · ";
      window += std::string(s.until) + " " + pages::FormatClockOrDate(*i.until, now, language);
    }
    if (!window.empty()) item.set("window", window);
    if (i.next_update_at) {
      item.set("next_update", std::string(s.next_update) + " " +
                                  pages::FormatClockOrDate(*i.next_update_at, now, language));
    }
    list.push_back(item);
  }
  data.set("incidents", list);
  data.set("updated", std::string(s.updated) + " " + pages::FormatClock(now));
  return page_.Render(data);
}

}  // namespace tidegate::status
