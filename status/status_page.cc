#include "status/status_page.h"

#include "pages/language.h"
#include "proxy/path_normalizer.h"
#include "status/status_formats.h"
#include "status/status_html.h"
#include "status/status_story.h"
#include "status/status_template.h"

namespace tidegate::status {
namespace {

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
    std::shared_ptr<const std::string> body = factory_.Cached(
        format, accept_language ? *accept_language : "", base_url, factory_.time().WallNow());
    headers.Add("Content-Type", content_type);
    headers.Add("Cache-Control", "public, max-age=5");
    // The feed's ids and links name the Host it was fetched under: a shared
    // cache must not hand one host's feed to another (audit 16 F6).
    headers.Add("Vary", format == StatusPageFactory::Format::kAtom ? "Accept-Language, Host"
                                                                   : "Accept-Language");
    headers.Add("X-Content-Type-Options", "nosniff");
    if (format == StatusPageFactory::Format::kHtml) {
      headers.Add("Content-Security-Policy",
                  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                  "frame-ancestors 'none'");
    }
    callbacks_.SendLocalReply(200, std::move(headers), *body, proxy::Answerer::kBuiltin);
    return proxy::FilterStatus::kStop;
  }

 private:
  const StatusPageFactory& factory_;
  proxy::FilterCallbacks& callbacks_;
};

}  // namespace

std::unique_ptr<StatusPageFactory> StatusPageFactory::Create(
    const config::Config& config, const proxy::Published<state::RuntimeState>* runtime_state,
    const common::TimeSource& time, std::string* error) {
  auto page = pages::PageTemplate::Load(config.site.templates_dir, "status.html",
                                        kBuiltinStatusTemplate, error);
  if (!page) return nullptr;
  return std::unique_ptr<StatusPageFactory>(
      new StatusPageFactory(config, runtime_state, time, std::move(*page)));
}

StatusPageFactory::StatusPageFactory(const config::Config& config,
                                     const proxy::Published<state::RuntimeState>* runtime_state,
                                     const common::TimeSource& time, pages::PageTemplate page)
    : config_(config), runtime_state_(runtime_state), time_(time), page_(std::move(page)) {}

std::unique_ptr<proxy::StreamFilter> StatusPageFactory::CreateFilter(
    proxy::FilterCallbacks& callbacks) const {
  return std::make_unique<StatusPageFilter>(*this, callbacks);
}

std::shared_ptr<const std::string> StatusPageFactory::Cached(Format format,
                                                             std::string_view accept_language,
                                                             const std::string& base_url,
                                                             common::TimePoint now) const {
  pages::Language fallback =
      pages::ParseLanguageCode(config_.site.default_language).value_or(pages::Language::kEnglish);
  pages::Language language = format == Format::kHtml
                                 ? pages::PickLanguage(accept_language, fallback)
                                 : fallback;  // JSON has no words; the feed uses the default
  uint64_t version = runtime_state_->Get().version;
  int64_t second = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  CacheKey key{static_cast<int>(format), static_cast<int>(language),
               format == Format::kAtom ? base_url : std::string()};
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second.version == version && it->second.second == second) {
      return it->second.body;
    }
  }
  auto body = std::make_shared<const std::string>(
      Render(format, pages::LanguageCode(language), base_url, now));
  std::lock_guard<std::mutex> lock(cache_mutex_);
  // Hosts are chosen by clients: a bounded number of feeds is kept.
  if (cache_.size() >= 2 * 3 + kCachedFeeds && cache_.find(key) == cache_.end()) cache_.clear();
  cache_[key] = CachedBody{version, second, body};
  return body;
}

std::string StatusPageFactory::Render(Format format, std::string_view accept_language,
                                      const std::string& base_url, common::TimePoint now) const {
  const state::RuntimeState& state = runtime_state_->Get();
  StatusStory story = BuildStory(config_, state, now);
  pages::Language fallback =
      pages::ParseLanguageCode(config_.site.default_language).value_or(pages::Language::kEnglish);
  if (format == Format::kJson) return StatusJson(config_, story, now).dump(2) + "\n";
  if (format == Format::kAtom) return StatusAtom(config_, story, now, base_url, fallback);
  pages::Language language = pages::PickLanguage(accept_language, fallback);
  return page_.Render(StatusPageData(config_, story, language, now));
}

}  // namespace tidegate::status
