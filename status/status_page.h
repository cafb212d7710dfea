// The public status page: GET /.tidegate/status (HTML, English or French by
// Accept-Language), /.tidegate/status.json and /.tidegate/status.atom.
// Shoppers are sent here from the maintenance page, the banner and the
// proxy's own 502/504 pages; monitors poll the JSON or subscribe to the feed.
//
// Contract:
// * StatusPageFactory is built on the control thread per configuration
//   (Create() loads the template: [site].templates_dir/status.html or the
//   built-in one; nullptr + *error when an override does not parse). It is
//   immutable and shared by workers; `runtime_state` and `time` must outlive
//   it. Every page is rendered at time.WallNow() (tests pass a
//   common::FakeTimeSource).
// * Its filter is a page of the built-in router (proxy/builtin_router.h):
//   app/filter_chain.cc registers it for kRoutes (case-insensitive), and it
//   serves those paths (HEAD gets the head; other methods get 405 with
//   `Allow: GET, HEAD`, from the router before the page is asked); a path
//   it does not know continues (the router then answers 404).
// * Pages are rendered from the state in force and carry `Cache-Control:
//   public, max-age=5`, so a crowd sent to the page during an incident is
//   absorbed by browsers and CDNs. Rendering a story with a month of history
//   costs a few hundred microseconds (Mustache), so the filter serves a body
//   rendered at most once per second per (format, language) for a given
//   state version (Cached(); the feed's body also depends on the request's
//   host, kept for at most kCachedFeeds hosts).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "common/time_source.h"
#include "pages/page_template.h"
#include "proxy/filter.h"
#include "proxy/published.h"
#include "state/runtime_state.h"

namespace tidegate::status {

class StatusPageFactory : public proxy::FilterFactory {
 public:
  static std::unique_ptr<StatusPageFactory> Create(
      const config::Config& config, const proxy::Published<state::RuntimeState>* runtime_state,
      const common::TimeSource& time, std::string* error);

  std::unique_ptr<proxy::StreamFilter> CreateFilter(
      proxy::FilterCallbacks& callbacks) const override;

  // The paths the router gives this page (normalised, lower case).
  static constexpr const char* kRoutes[] = {"/.tidegate/status", "/.tidegate/status/",
                                            "/.tidegate/status.json", "/.tidegate/status.atom"};

  enum class Format { kHtml, kJson, kAtom };
  // The response body for `format` at `now` (tests call this directly).
  std::string Render(Format format, std::string_view accept_language, const std::string& base_url,
                     common::TimePoint now) const;
  // Render()'s body, reused while the state version and the second of `now`
  // are the same. Thread-safe (a mutex held for a lookup and a copy of the
  // pointer; rendering happens outside it).
  std::shared_ptr<const std::string> Cached(Format format, std::string_view accept_language,
                                            const std::string& base_url,
                                            common::TimePoint now) const;
  static constexpr size_t kCachedFeeds = 16;
  const common::TimeSource& time() const { return time_; }

 private:
  StatusPageFactory(const config::Config& config,
                    const proxy::Published<state::RuntimeState>* runtime_state,
                    const common::TimeSource& time, pages::PageTemplate page);

  struct CachedBody {
    uint64_t version = 0;
    int64_t second = 0;
    std::shared_ptr<const std::string> body;
  };
  // (format, language, host part for the feed) → body.
  using CacheKey = std::tuple<int, int, std::string>;

  const config::Config& config_;  // the snapshot's, which outlives its filters
  const proxy::Published<state::RuntimeState>* runtime_state_;
  const common::TimeSource& time_;
  pages::PageTemplate page_;
  mutable std::mutex cache_mutex_;
  mutable std::map<CacheKey, CachedBody> cache_;
};

}  // namespace tidegate::status
