#include "banner/banner_stylesheet.h"

#include "banner/banner_content.h"
#include "banner/banner_filter.h"
#include "proxy/entity_tag.h"

namespace tidegate::banner {
namespace {

class StylesheetFilter : public proxy::StreamFilter {
 public:
  StylesheetFilter(BannerStats& stats, proxy::FilterCallbacks& callbacks)
      : stats_(stats), callbacks_(callbacks) {}

  proxy::FilterStatus OnRequestHeaders(proxy::RequestHead& head) override {
    if (head.method != "GET" && head.method != "HEAD") return proxy::FilterStatus::kContinue;
    stats_.stylesheet_served.fetch_add(1, std::memory_order_relaxed);
    proxy::HeaderList headers;
    const std::string& etag = BannerContent::StylesheetEtag();
    // A browser revalidating after max-age: 304, no body (RFC 9110 §13.1.2).
    bool not_modified = proxy::IfNoneMatchHits(head.headers, etag);
    if (!not_modified) headers.Add("Content-Type", "text/css; charset=utf-8");
    headers.Add("Cache-Control", "public, max-age=300");
    headers.Add("ETag", etag);
    headers.Add("X-Content-Type-Options", "nosniff");
    callbacks_.SendLocalReply(
        not_modified ? 304 : 200, std::move(headers),
        not_modified ? std::string() : std::string(BannerContent::Stylesheet()),
        proxy::Answerer::kBanner);
    return proxy::FilterStatus::kStop;
  }

 private:
  BannerStats& stats_;
  proxy::FilterCallbacks& callbacks_;
};

}  // namespace

std::unique_ptr<proxy::StreamFilter> BannerStylesheetFactory::CreateFilter(
    proxy::FilterCallbacks& callbacks) const {
  return std::make_unique<StylesheetFilter>(*stats_, callbacks);
}

}  // namespace tidegate::banner
