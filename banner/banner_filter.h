// The banner filter: right after the built-in router in the chain
// (app/filter_chain.cc), so it never sees /.tidegate/* requests; its
// stylesheet, /.tidegate/assets/banner.css, is a route of that router
// (StylesheetRoute(), banner/banner_stylesheet.h).
//
// Hidden options ([features.NAME] action = "hide", banner/hide_rules.h)
// ride on the same injection: their <style> goes in right after <body>,
// before the banner, on every GET page (the [banner].match paths do not
// apply to it), with the same response gates and header changes.
//
// Request side: reads the banner in force
// (Published<state::RuntimeState> merged with [banner] by
// state::EffectiveBannerSettings) — when none is, nothing else happens. With
// a banner in force and the request gates passed (GET, [banner].match), it
// keeps the rendered banner for the response and, for a request that may
// want a page, asks the origin for `Accept-Encoding: identity`: in
// `compressed = "compress"` mode (the default) only when the client
// accepts gzip (banner/accept_encoding.h), in "identity" mode always.
//
// Response side: the response gates (banner_gates.h); a response that passes
// gets a weakened ETag, no Content-MD5 or Accept-Ranges, Vary and cache
// fields fixed, and its body streams through a BodyTagInjector (through a
// BodyRecoder for gzip/deflate bodies, through a BodyCompressor towards a
// client that accepts gzip when the origin was asked for identity). In
// "compress" mode the other compressible identity responses to such a
// request are gzipped too (banner/gzip_response.h), without insertion. Framing: an identity page
// with a Content-Length keeps one (the head is held, HoldResponseHead, until the tag is found or
// given up: the origin's length plus the insertion's, or the origin's); a small gzip page recoded
// whole gets its new length the same way; the others get kChunked (chunked to HTTP/1.1 clients,
// close-delimited to HTTP/1.0). A response that fails a gate is not
// touched at all.
//
// Rendering: the banner HTML is rendered once per (run-time state version,
// language) per worker, and again at most every 60 s (the "14:30" vs "24 Nov
// 14:30" form depends on the day) or when an override expires; never per
// request. Each worker has its own cache slot (no lock); a worker index past
// the slots (worker count changed without restart) shares a locked slot.
//
// Contract: BannerFilterFactory is built on the control thread per snapshot
// and is otherwise used from workers (CreateFilter is thread-safe).
// `runtime_state`, `time` and `stats` must outlive the factory. The banner in
// force is decided at time.WallNow() (tests pass a common::FakeTimeSource).
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "banner/banner_content.h"
#include "banner/banner_gates.h"
#include "banner/gzip_whole_body.h"
#include "banner/hide_rules.h"
#include "common/time_source.h"
#include "config/config.h"
#include "proxy/filter.h"
#include "proxy/published.h"
#include "state/runtime_state.h"

namespace tidegate::banner {

// Counters of the banner, shared by every worker (relaxed atomics). Owned by
// whoever outlives the snapshots (the filter chain builder) so they survive
// reloads; exposed as banner_injections_total and
// banner_skips_total{reason=SkipReasonName(r)}.
struct BannerStats {
  std::atomic<uint64_t> injections{0};
  std::array<std::atomic<uint64_t>, kSkipReasonCount> skips{};
  std::atomic<uint64_t> stylesheet_served{0};
  // HTML responses that received the `hide` CSS (banner/hide_rules.h).
  std::atomic<uint64_t> hide_injections{0};
  // Identity responses gzipped by tidegate for a client that accepts gzip
  // (`compressed = "compress"`, banner/gzip_response.h).
  std::atomic<uint64_t> gzipped{0};

  uint64_t skipped(SkipReason reason) const {
    return skips[static_cast<size_t>(reason)].load(std::memory_order_relaxed);
  }
};

class BannerFilterFactory : public proxy::FilterFactory {
 public:
  // nullptr with *error when the banner template does not load or a pattern
  // does not compile. `stats` may be null (the factory then keeps its own).
  static std::unique_ptr<BannerFilterFactory> Create(
      const config::Config& config, int workers,
      const proxy::Published<state::RuntimeState>* runtime_state, const common::TimeSource& time,
      BannerStats* stats, std::string* error);

  // False (the filter is not even created: no allocation per request) when
  // nothing can be inserted: no [banner] enabled with a message, no
  // run-time banner override (an operator's or an incident's, in force or
  // scheduled), no feature with action = "hide". Worker threads.
  bool AppliesTo(const proxy::RequestHead& head) const override;
  std::unique_ptr<proxy::StreamFilter> CreateFilter(
      proxy::FilterCallbacks& callbacks) const override;
  // The handler of the built-in route kStylesheetPath (counts in stats()).
  // It must not outlive the BannerStats given to Create() (or this factory
  // when it keeps its own).
  std::shared_ptr<const proxy::FilterFactory> StylesheetRoute() const;

  // --- used by the per-request filter (worker thread) ---
  // What this request's page may receive: the banner HTML (null when no
  // banner is in force) and the <style> of hidden options (null when
  // nothing is hidden).
  struct Insertions {
    std::shared_ptr<const std::string> banner;
    std::shared_ptr<const std::string> hide;
  };
  Insertions InsertionsFor(int worker, const proxy::RequestHead& head) const;
  std::shared_ptr<const std::string> BannerFor(int worker, const proxy::RequestHead& head) const {
    return InsertionsFor(worker, head).banner;
  }
  // The worker's whole-body gzip recoder (banner/gzip_whole_body.h), made
  // when first asked; null for a worker index past the slots (its
  // responses stream through zlib).
  GzipWholeBody* WholeBodyFor(int worker) const;
  const BannerGates& gates() const { return *gates_; }
  const config::BannerConfig& config() const { return config_; }
  BannerStats& stats() const { return *stats_; }
  void CountSkip(SkipReason reason) const {
    stats_->skips[static_cast<size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
  }

 private:
  struct alignas(64) Slot {
    uint64_t version = 0;
    bool valid = false;
    bool in_force = false;
    common::TimePoint valid_until{};
    state::EffectiveBanner banner;
    std::array<std::shared_ptr<const std::string>, 2> html;  // by language
    std::shared_ptr<const std::string> hide;                 // null = nothing hidden
    std::unique_ptr<GzipWholeBody> gzip;                     // this worker's, when first needed
  };
  BannerFilterFactory() = default;
  Insertions Lookup(Slot& slot, const proxy::RequestHead& head) const;

  config::BannerConfig config_;
  pages::Language default_language_ = pages::Language::kEnglish;
  std::unique_ptr<BannerGates> gates_;
  std::unique_ptr<BannerContent> content_;
  std::unique_ptr<HideRules> hide_rules_;
  const proxy::Published<state::RuntimeState>* runtime_state_ = nullptr;
  const common::TimeSource* time_ = nullptr;
  BannerStats* stats_ = nullptr;
  std::unique_ptr<BannerStats> own_stats_;
  mutable std::vector<Slot> slots_;  // one per worker, each touched by its worker only
  mutable Slot shared_slot_;         // workers past slots_, under shared_mutex_
  mutable std::mutex shared_mutex_;
};

}  // namespace tidegate::banner
