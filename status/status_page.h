// The public status page: GET /.tidegate/status (HTML, English or French by
// Accept-Language), /.tidegate/status.json and /.tidegate/status.atom.
// Shoppers are sent here from the maintenance page, the banner and the
// proxy's own 502/504 pages; monitors poll the JSON or subscribe to the feed.
//
// Contract:
// * StatusPageFactory is built on the control thread per configuration
//   (Create() loads the template: [site].templates_dir/status.html or the
//   built-in one; nullptr + *error when an override does not parse). It is
//   immutable and shared by workers; `runtime_state` must outlive it.
// * Its filter is a page of the built-in router (proxy/builtin_router.h):
//   app/filter_chain.cc registers it for kRoutes (case-insensitive), and it
//   serves those paths (HEAD gets the head; other methods get 405); a path
//   it does not know continues (the router then answers 404).
// * Pages are rendered per request from the state in force (a few tens of
//   microseconds) and carry `Cache-Control: public, max-age=5`, so a crowd
//   sent to the page during an incident is absorbed by browsers and CDNs.
#pragma once

#include <memory>
#include <string>

#include "admin/runtime_state.h"
#include "pages/page_template.h"
#include "proxy/filter.h"
#include "proxy/published.h"

namespace tidegate::status {

class StatusPageFactory : public proxy::FilterFactory {
 public:
  static std::unique_ptr<StatusPageFactory> Create(
      const config::Config& config, const proxy::Published<admin::RuntimeState>* runtime_state,
      std::string* error);

  std::unique_ptr<proxy::StreamFilter> CreateFilter(
      proxy::FilterCallbacks& callbacks) const override;

  // The paths the router gives this page (normalised, lower case).
  static constexpr const char* kRoutes[] = {"/.tidegate/status", "/.tidegate/status/",
                                            "/.tidegate/status.json", "/.tidegate/status.atom"};

  enum class Format { kHtml, kJson, kAtom };
  // The response body for `format` at `now` (tests call this directly).
  std::string Render(Format format, std::string_view accept_language, const std::string& base_url,
                     admin::TimePoint now) const;

 private:
  StatusPageFactory(const config::Config& config,
                    const proxy::Published<admin::RuntimeState>* runtime_state,
                    pages::PageTemplate page);

  const config::Config& config_;  // the snapshot's, which outlives its filters
  const proxy::Published<admin::RuntimeState>* runtime_state_;
  pages::PageTemplate page_;
};

}  // namespace tidegate::status
