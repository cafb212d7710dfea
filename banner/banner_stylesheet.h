// The banner's stylesheet, GET/HEAD /.tidegate/assets/banner.css (text/css,
// Cache-Control, ETag): a page of the built-in router
// (proxy/builtin_router.h), registered in app/filter_chain.cc on
// kStylesheetPath (matched byte for byte). Other methods get the router's
// 405 with `Allow: GET, HEAD` (the page itself would decline them). Answered by
// proxy::Answerer::kBanner; counted in BannerStats::stylesheet_served.
//
// Contract: immutable, shared by the workers; `stats` must outlive it.
#pragma once

#include <memory>

#include "proxy/filter.h"

namespace tidegate::banner {

struct BannerStats;

class BannerStylesheetFactory : public proxy::FilterFactory {
 public:
  explicit BannerStylesheetFactory(BannerStats* stats) : stats_(stats) {}
  std::unique_ptr<proxy::StreamFilter> CreateFilter(
      proxy::FilterCallbacks& callbacks) const override;

 private:
  BannerStats* stats_;
};

}  // namespace tidegate::banner
