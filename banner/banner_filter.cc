#include "banner/banner_filter.h"

#include <optional>
#include <string_view>
#include <vector>

#include "banner/accept_encoding.h"
#include "banner/banner_stylesheet.h"
#include "banner/body_compressor.h"
#include "banner/body_recoder.h"
#include "banner/body_tag_injector.h"
#include "banner/gzip_response.h"
#include "banner/rewritten_head.h"
#include "common/ascii.h"
#include "proxy/cookie_header.h"
#include "proxy/thread_recycled.h"
#include "state/effective_view.h"

namespace tidegate::banner {
namespace {

constexpr auto kRenderTtl = std::chrono::seconds(60);

// Asks the origin for identity only for requests that may want a page:
// images and scripts keep their compression.
bool AcceptsHtml(const proxy::RequestHead& head) {
  const std::string* accept = head.headers.Find("Accept");
  if (accept == nullptr || accept->empty()) return true;
  return accept->find("text/html") != std::string::npos || *accept == "*/*";
}

// The head of a page that gets the insertion, in one pass over its fields:
// a strong ETag is weakened; Content-MD5 and Accept-Ranges (they describe
// the origin's bytes) and the CDN-specific cache fields go; Vary gains
// Accept-Language (the banner text depends on it; `Vary: *` is left
// alone); and the page stays out of shared caches (proxy::MakeCachePrivate,
// the one shared-cache rule of tidegate).
void FixBanneredHead(proxy::HeaderList& headers) {
  bool cache_control =
      FixRewrittenHead(headers, "Accept-Language", {"Surrogate-Control", "CDN-Cache-Control"});
  if (cache_control) {
    proxy::MakeCachePrivate(&headers);
  } else {
    headers.Add("Cache-Control", "private");  // what MakeCachePrivate makes of none
  }
}

// Made for every forwarded request (the banner may be switched on at any
// moment) and freed at its end: its memory is reused for the worker's next
// one (proxy/thread_recycled.h).
class BannerFilter : public proxy::StreamFilter, public proxy::ThreadRecycled<BannerFilter> {
 public:
  BannerFilter(const BannerFilterFactory& factory, proxy::FilterCallbacks& callbacks)
      : factory_(factory), callbacks_(callbacks) {}

  proxy::FilterStatus OnRequestHeaders(proxy::RequestHead& head) override {
    BannerFilterFactory::Insertions insertions =
        factory_.InsertionsFor(callbacks_.worker().index, head);
    html_ = std::move(insertions.banner);
    hide_ = std::move(insertions.hide);
    if (!html_ && !hide_) return proxy::FilterStatus::kContinue;
    SkipReason skip = factory_.gates().CheckRequest(head);
    if (skip != SkipReason::kNone) {
      if (html_) factory_.CountSkip(skip);
      html_.reset();
      // The hiding CSS is not bound to [banner].match, only to GET.
      if (skip == SkipReason::kMethod) hide_.reset();
      if (!hide_) return proxy::FilterStatus::kContinue;
    }
    client_http10_ = head.version_minor == 0;
    error_page_banner_ = html_;
    config::BannerCompressed mode = factory_.config().compressed;
    if (mode == config::BannerCompressed::kRecode || !AcceptsHtml(head)) {
      return proxy::FilterStatus::kContinue;
    }
    if (mode == config::BannerCompressed::kCompress) {
      // As nginx's sub_filter + gzip: the origin sends identity, tidegate
      // compresses (no inflate). A client that does not accept gzip keeps
      // its Accept-Encoding (a deflate page from the origin is recoded).
      if (!AcceptsGzip(head.headers)) return proxy::FilterStatus::kContinue;
      gzip_for_client_ = true;
    }
    head.headers.Set("Accept-Encoding", "identity");
    return proxy::FilterStatus::kContinue;
  }

  void OnResponseHeaders(proxy::ResponseHead& head) override {
    if (!html_ && !hide_) return;
    ResponseVerdict verdict = factory_.gates().CheckResponse(head, client_http10_);
    if (verdict.skip != SkipReason::kNone) {
      if (html_) factory_.CountSkip(verdict.skip);
      html_.reset();
      hide_.reset();
      // The origin was asked for identity on the client's behalf: what it
      // would have compressed, tidegate compresses.
      if (gzip_for_client_) StartGzip(head, nullptr);
      return;
    }
    banner_ = html_ != nullptr;
    hiding_ = hide_ != nullptr;
    if (hide_ && html_) {
      injector_.emplace(*hide_ + *html_, factory_.config().window_bytes);
    } else {
      injector_.emplace(hide_ ? std::move(hide_) : std::move(html_),
                        factory_.config().window_bytes);
    }
    html_.reset();
    hide_.reset();
    if (verdict.coding != BodyCoding::kIdentity) {
      recoder_.emplace(verdict.coding == BodyCoding::kGzip ? BodyRecoder::Coding::kGzip
                                                           : BodyRecoder::Coding::kDeflate,
                       factory_.config().recode_level, &*injector_,
                       factory_.WholeBodyFor(callbacks_.worker().index));
    } else if (gzip_for_client_) {
      StartGzip(head, &*injector_);
    }
    if (compressor_) {
      // StartGzip set the framing and the hold.
    } else if (verdict.coding == BodyCoding::kIdentity &&
               head.framing == proxy::BodyFraming::kContentLength) {
      // The length changes by a known amount if the tag is found: the head
      // waits for the scan (HoldResponseHead) and keeps a Content-Length.
      hold_ = Hold::kUntilScanned;
    } else {
      head.framing = proxy::BodyFraming::kChunked;  // the length changes
      // A small gzip page is held whole by the recoder anyway: its head
      // waits too, and gets the re-encoded length if it was recoded whole.
      if (recoder_ && recoder_->holding_whole()) hold_ = Hold::kUntilRecoded;
    }
    FixBanneredHead(head.headers);
  }

  // The proxy's own error page for this request carries the banner too
  // (the request gates passed; the response gates are about origin pages).
  void OnErrorReply(proxy::ErrorReply& reply) override {
    if (error_page_banner_ && reply.after_body_open) *reply.after_body_open += *error_page_banner_;
  }

  bool WantsResponseBody() const override {
    return injector_.has_value() || compressor_.has_value();
  }

  bool HoldResponseHead(proxy::ResponseHead& head) override {
    switch (hold_) {
      case Hold::kNone:
        return false;
      case Hold::kUntilScanned:
        if (!injector_->done() && !body_ended_) return true;
        if (injector_->found()) head.content_length += injector_->insertion_size();
        break;
      case Hold::kUntilRecoded: {
        bool whole = compressor_ ? compressor_->compressed_whole() : recoder_->recoded_whole();
        bool holding = compressor_ ? compressor_->holding_whole() : recoder_->holding_whole();
        if (whole) {
          head.framing = proxy::BodyFraming::kContentLength;
          head.content_length = whole_size_;
        } else if (holding && !body_ended_) {
          return true;
        }  // else streaming through zlib: chunked
        break;
      }
    }
    hold_ = Hold::kNone;
    return false;
  }

  void OnResponseBody(evbuffer* chunk, bool end_stream) override {
    body_ended_ = end_stream;
    if (recoder_ || compressor_) {
      bool was_whole = compressor_ ? compressor_->compressed_whole() : recoder_->recoded_whole();
      bool ok = compressor_ ? compressor_->Process(chunk, end_stream)
                            : recoder_->Process(chunk, end_stream);
      bool whole = compressor_ ? compressor_->compressed_whole() : recoder_->recoded_whole();
      // Coded in one piece: this chunk is the whole encoded body.
      if (!was_whole && whole) whole_size_ = evbuffer_get_length(chunk);
      if (!ok) {
        // The page cannot be completed: the client must see a broken
        // transfer, not a finished (truncated) page.
        if (!failure_counted_) {
          failure_counted_ = true;
          if (recoder_) factory_.CountSkip(SkipReason::kDecodeError);
        }
        callbacks_.AbortResponse();
        return;
      }
    } else {
      injector_->Process(chunk);
    }
    if (!injector_) return;  // compressed only
    if (recoder_ && recoder_->passed_as_is()) {
      if (!failure_counted_) {
        failure_counted_ = counted_ = true;
        factory_.CountSkip(SkipReason::kDecodeError);
      }
      return;
    }
    if (!counted_ && injector_->found()) {
      counted_ = true;
      if (banner_) factory_.stats().injections.fetch_add(1, std::memory_order_relaxed);
      if (hiding_) factory_.stats().hide_injections.fetch_add(1, std::memory_order_relaxed);
    } else if (!counted_ && end_stream && !failure_counted_) {
      counted_ = true;
      if (banner_) factory_.CountSkip(SkipReason::kNoBodyTag);
    }
  }

 private:
  // Gzips this identity response for the client (the origin was asked for
  // identity on its behalf), with the insertion when `injector` is set:
  // framing, hold and head fields. Nothing when PlanGzip says no.
  void StartGzip(proxy::ResponseHead& head, BodyTagInjector* injector) {
    GzipPlan plan = PlanGzip(head, client_http10_);
    if (plan == GzipPlan::kNone) return;
    int worker = callbacks_.worker().index;
    compressor_.emplace(factory_.config().recode_level, injector, factory_.WholeBodyFor(worker),
                        plan == GzipPlan::kWhole);
    head.framing = proxy::BodyFraming::kChunked;  // or the encoded length, once known
    if (compressor_->holding_whole()) hold_ = Hold::kUntilRecoded;
    MarkGzipped(head.headers);
    factory_.stats().gzipped.fetch_add(1, std::memory_order_relaxed);
  }

  const BannerFilterFactory& factory_;
  proxy::FilterCallbacks& callbacks_;
  std::shared_ptr<const std::string> html_;  // set while the banner may still apply
  std::shared_ptr<const std::string> hide_;  // set while hiding CSS may still apply
  // The banner for the proxy's own error page (OnErrorReply): set when
  // the request gates passed, kept whatever the response does.
  std::shared_ptr<const std::string> error_page_banner_;
  bool banner_ = false;  // the injection carries the banner
  bool hiding_ = false;  // the injection carries hiding CSS
  std::optional<BodyTagInjector> injector_;
  std::optional<BodyRecoder> recoder_;
  std::optional<BodyCompressor> compressor_;  // identity → gzip for the client
  bool client_http10_ = false;
  bool gzip_for_client_ = false;  // the origin was asked for identity in its stead
  // Why the head waits (HoldResponseHead): until the tag is found or given
  // up (Content-Length = origin's + insertion, or the origin's), or until a
  // small page was recoded or compressed whole (Content-Length = encoded size).
  enum class Hold { kNone, kUntilScanned, kUntilRecoded };
  Hold hold_ = Hold::kNone;
  bool body_ended_ = false;
  size_t whole_size_ = 0;
  bool counted_ = false;
  bool failure_counted_ = false;
};

}  // namespace

std::unique_ptr<BannerFilterFactory> BannerFilterFactory::Create(
    const config::Config& config, int workers,
    const proxy::Published<state::RuntimeState>* runtime_state, const common::TimeSource& time,
    BannerStats* stats, std::string* error) {
  std::unique_ptr<BannerFilterFactory> factory(new BannerFilterFactory());
  factory->config_ = config.banner;
  factory->default_language_ =
      pages::ParseLanguageCode(config.site.default_language).value_or(pages::Language::kEnglish);
  factory->gates_ = BannerGates::Create(config.banner, error);
  if (!factory->gates_) return nullptr;
  factory->content_ = BannerContent::Create(config.site, error);
  if (!factory->content_) return nullptr;
  factory->hide_rules_ = std::make_unique<HideRules>(config.features);
  factory->runtime_state_ = runtime_state;
  factory->time_ = &time;
  if (stats == nullptr) {
    factory->own_stats_ = std::make_unique<BannerStats>();
    stats = factory->own_stats_.get();
  }
  factory->stats_ = stats;
  factory->slots_.resize(workers > 0 ? static_cast<size_t>(workers) : 1);
  return factory;
}

bool BannerFilterFactory::AppliesTo(const proxy::RequestHead& head) const {
  if (!hide_rules_->empty() || (config_.enabled && !config_.message.empty())) return true;
  return runtime_state_ != nullptr && runtime_state_->Get().banner.has_value();
}

std::unique_ptr<proxy::StreamFilter> BannerFilterFactory::CreateFilter(
    proxy::FilterCallbacks& callbacks) const {
  return std::make_unique<BannerFilter>(*this, callbacks);
}

std::shared_ptr<const proxy::FilterFactory> BannerFilterFactory::StylesheetRoute() const {
  return std::make_shared<BannerStylesheetFactory>(stats_);
}

GzipWholeBody* BannerFilterFactory::WholeBodyFor(int worker) const {
  if (worker < 0 || static_cast<size_t>(worker) >= slots_.size()) return nullptr;
  std::unique_ptr<GzipWholeBody>& gzip = slots_[static_cast<size_t>(worker)].gzip;
  if (!gzip) gzip = std::make_unique<GzipWholeBody>();
  return gzip.get();
}

BannerFilterFactory::Insertions BannerFilterFactory::InsertionsFor(
    int worker, const proxy::RequestHead& head) const {
  if (worker >= 0 && static_cast<size_t>(worker) < slots_.size()) {
    return Lookup(slots_[static_cast<size_t>(worker)], head);
  }
  std::lock_guard<std::mutex> lock(shared_mutex_);
  return Lookup(shared_slot_, head);
}

BannerFilterFactory::Insertions BannerFilterFactory::Lookup(Slot& slot,
                                                            const proxy::RequestHead& head) const {
  static const state::RuntimeState kNoOverrides;
  const state::RuntimeState& state = runtime_state_ ? runtime_state_->Get() : kNoOverrides;
  common::TimePoint now = time_->WallNow();
  if (!slot.valid || slot.version != state.version || now >= slot.valid_until) {
    slot.banner = state::EffectiveBannerSettings(config_, state, now);
    slot.in_force = slot.banner.enabled;
    slot.version = state.version;
    slot.valid_until = now + kRenderTtl;
    if (slot.banner.expires_at && *slot.banner.expires_at < slot.valid_until) {
      slot.valid_until = *slot.banner.expires_at;
    }
    slot.html = {};
    slot.hide.reset();
    if (!hide_rules_->empty()) {
      std::optional<common::TimePoint> next_change;
      std::string css = hide_rules_->Render(state, now, &next_change);
      if (!css.empty()) slot.hide = std::make_shared<const std::string>(std::move(css));
      if (next_change && *next_change < slot.valid_until) slot.valid_until = *next_change;
    }
    slot.valid = true;
  }
  if (!slot.in_force) return {nullptr, slot.hide};
  const std::string* accept_language = head.headers.Find("Accept-Language");
  pages::Language language = pages::PickLanguage(
      accept_language ? std::string_view(*accept_language) : std::string_view(), default_language_);
  std::shared_ptr<const std::string>& html = slot.html[language == pages::Language::kFrench];
  if (!html)
    html = std::make_shared<const std::string>(content_->Render(slot.banner, state, language, now));
  return {html, slot.hide};
}

}  // namespace tidegate::banner
