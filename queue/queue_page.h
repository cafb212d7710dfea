// The queue page: rendered ONCE per language and variant (queued / sales
// closed) from the Mustache template when the configuration is loaded, then
// split at the per-visitor placeholders; serving a page only concatenates
// the pre-rendered pieces with a few numbers (no template work per request).
//
// Contract: Build() runs on the control thread (reads a merchant override
// from [site].templates_dir); nullopt + *error when the template is missing
// or broken, so a reload keeps the old configuration. The object is
// immutable afterwards and thread-safe. Texts are in English and French.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "pages/language.h"
#include "proxy/filter.h"
#include "queue/eta.h"
#include "queue/queue_page_notice.h"

namespace tidegate::queue {

// Which page a visitor gets: its place in line, "sales closed", the join
// challenge (join_challenge = "pow"), or a refused join (e.g.
// max_tickets_per_ip_per_minute).
enum class PageKind { kQueued, kClosed, kChallenge, kRefused };
inline constexpr size_t kPageKinds = 4;

struct QueuePageValues {
  uint64_t position = 0;       // 1 = next in line
  WaitRange wait;              // estimated wait
  int64_t now_ms = 0;          // "last updated"
  int progress = 0;            // 0-100
  std::string_view self_url;   // SelfUrl(target) (queue_reply.h): the no-script "check again" link
                               // (a view: valid during Render())
  std::string_view challenge;  // kChallenge: the token to solve
  std::string_view message;    // kRefused: why
};

class PageBody;

class QueuePage {
 public:
  // `challenge_bits`: the room's join_challenge_bits (0: no challenge). A
  // merchant template without the {{challenge}} (or, for a refused join,
  // {{message}}) slot gets the built-in page for those two kinds.
  // `notice` (may be null): the incident or banner in force, spliced in at
  // the template's {{notice}} slot on every page served.
  static std::optional<QueuePage> Build(const config::SiteConfig& site, const std::string& room,
                                        int refresh_seconds, std::string* error,
                                        int challenge_bits = 0,
                                        std::shared_ptr<const QueuePageNotice> notice = nullptr);

  // One visitor's page, to be written where it goes (PageBody below): the
  // per-visitor values are formatted once, the literal pieces are not copied
  // until PageBody::WriteTo. The served path uses this.
  PageBody RenderBody(pages::Language language, PageKind kind, const QueuePageValues& values) const;
  // The same into `body`, a default-constructed PageBody (e.g. one emplaced
  // where it is used: no move of the body afterwards).
  void RenderBodyInto(pages::Language language, PageKind kind, const QueuePageValues& values,
                      PageBody* body) const;
  // The same page as a string (RenderBody(...).ToString()).
  std::string Render(pages::Language language, PageKind kind, const QueuePageValues& values) const;
  std::string Render(pages::Language language, bool closed, const QueuePageValues& values) const {
    return Render(language, closed ? PageKind::kClosed : PageKind::kQueued, values);
  }
  // Content-Security-Policy for the page: nothing external, the inline
  // script and style allowed by their hashes, polling to 'self' only; the
  // challenge page also allows its own worker (worker-src blob:).
  const std::string& Csp(pages::Language language, PageKind kind) const;
  const std::string& Csp(pages::Language language, bool closed) const {
    return Csp(language, closed ? PageKind::kClosed : PageKind::kQueued);
  }
  // Where the template came from ("built-in" or the override's path).
  const std::string& origin() const { return origin_; }
  // The incident or banner notice this page splices in (null: none).
  const QueuePageNotice* notice() const { return notice_.get(); }

  // Texts for the JSON answer and the page.
  static std::string WaitText(const WaitRange& wait, pages::Language language);
  static std::string PositionMessage(uint64_t position, pages::Language language);
  // "14:30 CET": the shop's clock at now_ms with its zone (the page's "Last
  // updated"; a shopper abroad must not read it as their own clock).
  static std::string ClockText(int64_t now_ms);
  // A time to come (an event's start: "the sale opens at …, everyone who
  // arrives before then …"): "09:00 CET" on a whole minute, else with its
  // seconds ("18:06:18 CET", the milliseconds dropped), so that both "opens
  // at" and "arrives before then" hold (a minute rounded up told visitors
  // arriving after the start they were in the draw, rounded down would open
  // the sale late). With the zone, and the date when it is not on the day
  // of now_ms ("24 Nov 09:00 CET").
  static std::string ComingTimeText(int64_t at_ms, int64_t now_ms, pages::Language language);
  static std::string ClosedMessage(pages::Language language);
  // The shared store is failing and [state].on_failure = "closed": the
  // visitor keeps its place, the page tries again by itself.
  static std::string UnavailableMessage(pages::Language language);
  // A queued visitor whose place this process does not know yet (the
  // shared store not read yet or unreachable; Visit::place_unknown).
  static std::string PlaceUnknownMessage(pages::Language language);
  static std::string AdmittedMessage(pages::Language language);
  // Join checks (queue/join_guard.h).
  static std::string ChallengeMessage(pages::Language language);
  static std::string RateLimitedMessage(int retry_after_seconds, pages::Language language);

 private:
  friend class PageBody;
  enum class Slot {
    kLiteral,
    kPosition,
    kWait,
    kUpdated,
    kUpdatedIso,
    kProgress,
    kSelfUrl,
    kChallenge,
    kMessage,
    kNotice
  };
  static constexpr size_t kSlots = static_cast<size_t>(Slot::kNotice) + 1;
  struct Piece {
    Slot slot = Slot::kLiteral;
    std::string text;  // for kLiteral
  };
  struct Variant {
    std::vector<Piece> pieces;
    std::string csp;
    // The page's constant header lines, serialized ("Name: value\r\n"):
    // Content-Type, Content-Security-Policy, X-Content-Type-Options,
    // Referrer-Policy (PageBody::fixed_fields).
    std::string fields;
    size_t literal_bytes = 0;
    bool has_time = false;  // a kUpdated or kUpdatedIso slot
    uint32_t slots = 0;     // bit s: a piece of Slot s
  };
  static std::optional<Variant> Prepare(const std::string& rendered, bool worker,
                                        std::string* error);
  static bool HasSlot(const Variant& v, Slot slot);

  std::array<Variant, 2 * kPageKinds> variants_;  // [language * kPageKinds + kind]
  std::string origin_;
  std::shared_ptr<const QueuePageNotice> notice_;
};

// One visitor's queue page (QueuePage::RenderBody), written by the proxy
// straight into the connection's output (proxy::LocalBody): the literal
// pieces are read from the QueuePage, which must outlive this object (the
// room's compiled page: alive during the exchange's SendLocalReplyBody);
// the visitor's values are held here, formatted and escaped once. Not
// thread-safe (one exchange's).
class PageBody final : public proxy::LocalBody {
 public:
  size_t size() const override { return size_; }
  void WriteTo(char* out) const override;
  std::string_view fixed_fields() const override { return variant_->fields; }
  // The large literal pieces as views of the QueuePage; the values and the
  // small literal pieces between them copied into `copy`.
  int Gather(size_t copy_below, char* copy, std::string_view* out, int max) const override;
  std::string ToString() const;

 private:
  friend class QueuePage;
  struct Span {
    uint32_t at = 0;
    uint32_t size = 0;
  };
  std::string_view Value(QueuePage::Slot slot) const {
    const Span& s = spans_[static_cast<size_t>(slot)];
    return values().substr(s.at, s.size);
  }
  std::string_view values() const {
    return heap_.empty() ? std::string_view(inline_.data(), inline_size_) : std::string_view(heap_);
  }
  // Keeps a copy of `values` (in place when it fits).
  void SetValues(std::string_view values);

  // The usual page's values (a position, a wait, two times, a progress and
  // a short link twice) fit in place: a page costs no allocation for them.
  static constexpr size_t kInlineValues = 240;

  const QueuePage::Variant* variant_ = nullptr;
  // The formatted values, back to back: in inline_ when they fit, else in
  // heap_ (a long link, a notice, a challenge).
  std::array<char, kInlineValues> inline_{};
  uint32_t inline_size_ = 0;
  std::string heap_;
  std::array<Span, QueuePage::kSlots> spans_{};
  size_t size_ = 0;
};

}  // namespace tidegate::queue
