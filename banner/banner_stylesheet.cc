#include "banner/banner_stylesheet.h"

#include "banner/banner_content.h"
#include "banner/banner_filter.h"

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
    headers.Add("Content-Type", "text/css; charset=utf-8");
    headers.Add("Cache-Control", "public, max-age=300");
    headers.Add("ETag", BannerContent::StylesheetEtag());
    headers.Add("X-Content-Type-Options", "nosniff");
    callbacks_.SendLocalReply(200, std::move(headers), std::string(BannerContent::Stylesheet()),
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
