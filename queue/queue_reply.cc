#include "queue/queue_reply.h"

#include <nlohmann/json.hpp>

#include <array>
#include <chrono>

#include "common/hex.h"
#include "common/rfc3339.h"
#include "pages/html_escape.h"
#include "proxy/byte_scan.h"
#include "proxy/path_normalizer.h"
#include "queue/room_events.h"

namespace tidegate::queue {
namespace {

using Outcome = Visit::Outcome;

// Shown where a position or a wait is not known (an em dash).
constexpr char kNoValue[] = "\u2014";

int RefreshSeconds(const CompiledRoom& room) {
  return std::max<int>(1, static_cast<int>(room.config.refresh_interval.count() / 1000));
}

// When a queued visitor should poll again: at refresh_interval, but sooner
// as its turn nears (half the low end of its wait, at least 1 s), so that an
// invitation is claimed within about a second instead of up to a whole
// refresh interval later — a place held for a visitor who has not polled
// yet is a place nobody uses. Only the front of the line polls faster.
int PollSeconds(const CompiledRoom& room, const Visit& v) {
  int refresh = RefreshSeconds(room);
  if (v.awaiting_draw || v.place_unknown) return refresh;
  int64_t soon = std::max<int64_t>(1, v.wait.low_seconds / 2);
  return static_cast<int>(std::min<int64_t>(refresh, soon));
}

// Scheduled events' pre-queue (queue/room_events.h): no position until the
// draw; `draw_at` says when.
void AwaitingDrawJson(const Visit& v, pages::Language language, int64_t now_ms, nlohmann::json* j) {
  (*j)["position"] = nullptr;
  (*j)["estimated_wait_seconds"] = nullptr;
  (*j)["draw_at"] = common::FormatRfc3339(
      std::chrono::system_clock::time_point(std::chrono::milliseconds(v.draw_at_ms)));
  (*j)["wait_text"] = DrawAtText(v.draw_at_ms, now_ms, language);
  (*j)["progress"] = 0;
  (*j)["message"] = PrequeueMessage(v.draw_at_ms, now_ms, language);
}

// The ticket's place is not known yet (Visit::place_unknown): no position
// and no wait; the ticket is kept and the page asks again.
void PlaceUnknownJson(pages::Language language, nlohmann::json* j) {
  (*j)["position"] = nullptr;
  (*j)["estimated_wait_seconds"] = nullptr;
  (*j)["wait_text"] = kNoValue;
  (*j)["progress"] = 0;
  (*j)["message"] = QueuePage::PlaceUnknownMessage(language);
}

// Replaces the text of the element opened by `open_tag` in a rendered page
// (the built-in template's ids; a merchant template without them is left as is).
void ReplaceElementText(std::string_view open_tag, std::string_view text, std::string* html) {
  size_t at = html->find(open_tag);
  if (at == std::string::npos) return;
  at += open_tag.size();
  size_t end = html->find('<', at);
  if (end == std::string::npos) return;
  html->replace(at, end - at, pages::EscapeHtml(text));
}

// A join held back by the room's abuse checks (queue/join_guard.h); the
// wire format is in docs/waiting-room.md, "Join challenge (wire format)".
void JoinCheckJson(const CompiledRoom& room, const Visit& v, pages::Language language,
                   nlohmann::json* j) {
  (*j)["in_queue"] = false;
  (*j)["admitted"] = false;
  if (v.refusal) (*j)["refused"] = std::string(AbuseReasonName(*v.refusal));
  if (v.outcome == Outcome::kRefused) {
    (*j)["retry_after_seconds"] = v.retry_after_seconds;
    (*j)["message"] = QueuePage::RateLimitedMessage(v.retry_after_seconds, language);
    return;
  }
  (*j)["challenge"] = {{"type", "pow"},
                       {"algorithm", "sha256"},
                       {"token", v.challenge},
                       {"bits", room.config.join_challenge_bits},
                       {"header", std::string(kAnswerHeader)},
                       {"expires_in_seconds", kMaxAnswerAgeMs / 1000}};
  (*j)["message"] = QueuePage::ChallengeMessage(language);
}

nlohmann::json QueuedJson(const CompiledRoom& room, const Visit& v, pages::Language language,
                          int64_t now_ms) {
  nlohmann::json j;
  if (v.outcome == Outcome::kChallenge || v.outcome == Outcome::kRefused) {
    JoinCheckJson(room, v, language, &j);
  } else if (v.outcome == Outcome::kQueued) {
    j["in_queue"] = true;
    j["position"] = v.position;
    // "more than 4 hours": no top end (queue/eta.h, WaitRange).
    j["estimated_wait_seconds"] = {v.wait.low_seconds, v.wait.high_seconds};
    if (v.wait.more_than) j["estimated_wait_seconds"][1] = nullptr;
    if (v.wait.stalled) j["wait_stalled"] = true;
    j["refresh_seconds"] = PollSeconds(room, v);
    j["wait_text"] = QueuePage::WaitText(v.wait, language);
    j["updated_text"] = QueuePage::ClockText(now_ms);
    j["progress"] = v.progress;
    j["message"] = QueuePage::PositionMessage(v.position, language);
    if (v.awaiting_draw) AwaitingDrawJson(v, language, now_ms, &j);
    if (v.place_unknown) PlaceUnknownJson(language, &j);
    if (v.notice != RoomNotice::kNone) {  // a used ticket, an ended session
      if (v.position == 0) {              // no place held (until the visitor reloads)
        j["position"] = nullptr;
        j["estimated_wait_seconds"] = nullptr;
      }
      j["notice"] = RoomNoticeCode(v.notice);
      j["message"] = RoomNoticeText(v.notice, language);
    }
  } else if (v.outcome == Outcome::kClosed) {
    j["in_queue"] = false;
    j["admitted"] = false;
    j["closed"] = true;
    j["message"] = QueuePage::ClosedMessage(language);
  } else if (v.outcome == Outcome::kUnavailable) {
    j["in_queue"] = true;
    j["position"] = nullptr;
    j["estimated_wait_seconds"] = nullptr;
    j["refresh_seconds"] = RefreshSeconds(room);
    j["wait_text"] = kNoValue;
    j["updated_text"] = QueuePage::ClockText(now_ms);
    j["message"] = QueuePage::UnavailableMessage(language);
  } else {
    j["in_queue"] = false;
    j["admitted"] = v.admitted;
    if (v.admitted) j["message"] = QueuePage::AdmittedMessage(language);
  }
  // The page keeps polling (in_queue): the incident or banner in force goes
  // with each answer, so the page updates its notice in place.
  if (j.value("in_queue", false)) {
    const QueuePageNotice* notice = room.page ? room.page->notice() : nullptr;
    j["shop_notice"] = notice ? notice->Json(language) : nlohmann::json(nullptr);
  }
  j["room"] = room.config.name;
  return j;
}

void AddCookies(Visit& v, Reply* r) {
  // Each cookie's buffer goes into the reply (moved, no copy); when the
  // reply's list is cleared it goes to the thread's spare strings, where
  // the next ticket's cookie takes it (SetCookieWith), and the visit's list
  // goes back to the thread's pool: no allocation per page once warm.
  for (std::string& c : v.set_cookies) r->headers.Add("Set-Cookie", std::move(c));
  RecycleCookieList(std::move(v.set_cookies));
  r->headers.Append("Cache-Control", "no-store");
}

// RFC 3986 pchar / "/" / "?" minus "%" (escapes are copied as they come),
// as a table: one load per byte of the link (the queued path builds one per
// page).
constexpr std::array<bool, 256> kSafeInLink = [] {
  std::array<bool, 256> safe{};
  for (int c = 'a'; c <= 'z'; ++c) safe[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) safe[c] = true;
  for (int c = '0'; c <= '9'; ++c) safe[c] = true;
  for (unsigned char c : std::string_view("-._~"         // unreserved
                                          "!$&'()*+,;="  // sub-delims
                                          ":@/?")) {
    safe[c] = true;
  }
  return safe;
}();

bool SafeInLink(unsigned char c) { return kSafeInLink[c]; }

void AppendForLink(std::string_view in, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  // Most links need no escaping: copied at once.
  size_t plain = 0;
  while (plain < in.size() && SafeInLink(static_cast<unsigned char>(in[plain]))) ++plain;
  out->append(in.substr(0, plain));
  for (size_t i = plain; i < in.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    bool escape = c == '%' && i + 2 < in.size() && common::HexDigitValue(in[i + 1]) >= 0 &&
                  common::HexDigitValue(in[i + 2]) >= 0;
    if (SafeInLink(c) || escape) {
      out->push_back(static_cast<char>(c));
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 0xF]);
    }
  }
}

// Where the path of a request target ends (its "?" or "#", or the end): one
// pass, eight bytes per step, no memchr per byte as find_first_of("?#")
// makes.
size_t PathEnd(std::string_view target) {
  using proxy::bytescan::HasByte;
  size_t i = 0;
  for (; i + 8 <= target.size(); i += 8) {
    uint64_t v = proxy::bytescan::Load8(target.data() + i);
    if (HasByte(v, '?') || HasByte(v, '#')) break;
  }
  while (i < target.size() && target[i] != '?' && target[i] != '#') ++i;
  return i;
}

}  // namespace

namespace {

std::string SelfUrlOf(std::string_view target, size_t path_end, std::string_view path) {
  std::string url;
  // Most links need no escaping: the target's size is the usual length
  // (a short one then stays in the string's own buffer).
  url.reserve(target.size());
  AppendForLink(path, &url);
  if (path_end < target.size() && target[path_end] == '?') {
    std::string_view rest = target.substr(path_end);
    rest = rest.substr(0, rest.find('#'));
    AppendForLink(rest, &url);
  }
  return url;
}

}  // namespace

std::string SelfUrl(std::string_view target) {
  return SelfUrlOf(target, PathEnd(target),
                   proxy::NormalizePath(target, {.strip_segment_params = false}));
}

std::string SelfUrl(std::string_view target, std::string_view normalized) {
  size_t path_end = PathEnd(target);
  if (target.substr(0, path_end).find(';') != std::string_view::npos) return SelfUrl(target);
  return SelfUrlOf(target, path_end, normalized);
}

namespace {

// What SelfUrlInPlace needs to know of a byte, in one load: most bytes of
// a shop's link are plain (one compare per byte).
enum LinkByte : uint8_t { kUnsafe, kPlain, kQuery, kParams, kFragment };
constexpr std::array<uint8_t, 256> kLinkBytes = [] {
  std::array<uint8_t, 256> kinds{};
  for (int c = 0; c < 256; ++c) kinds[c] = kSafeInLink[c] ? kPlain : kUnsafe;
  kinds['?'] = kQuery;
  kinds[';'] = kParams;
  kinds['#'] = kFragment;
  return kinds;
}();

}  // namespace

std::optional<std::string_view> SelfUrlInPlace(std::string_view target,
                                               std::string_view normalized) {
  // One pass to the fragment: every byte safe (then AppendForLink copies it
  // as it is), and where the path ends (its first "?").
  size_t path_end = std::string_view::npos;
  size_t end = 0;
  for (; end < target.size(); ++end) {
    uint8_t kind = kLinkBytes[static_cast<unsigned char>(target[end])];
    if (kind == kPlain) continue;
    if (kind == kFragment) break;
    if (kind == kUnsafe) return std::nullopt;
    if (path_end != std::string_view::npos) continue;  // in the query: "?" and ";" are plain
    if (kind == kParams) return std::nullopt;  // segment parameters: SelfUrl(target) normalises
    path_end = end;                            // the first "?"
  }
  if (path_end == std::string_view::npos) path_end = end;
  // (The gate's canonical path is a view of the target: no compare then.)
  bool same_path = normalized.size() == path_end &&
                   (normalized.data() == target.data() || normalized == target.substr(0, path_end));
  if (!same_path) return std::nullopt;
  return target.substr(0, end);
}

Reply QueuedReply(const CompiledRoom& room, Visit v, pages::Language language, bool json,
                  std::string_view self_url, int64_t now_ms, proxy::HeaderList storage) {
  Reply r;
  r.headers = std::move(storage);
  r.headers.clear();
  // Room for every header of a queue page (its constant ones come with the
  // page, PageBody::fixed_fields), the core's Content-Length and Connection
  // included: no reallocation on the way.
  r.headers.mutable_fields().reserve(6);
  r.status = room.config.queued_status;
  if (v.outcome == Outcome::kRefused) {  // over max_tickets_per_ip_per_minute
    r.status = 429;
    r.headers.Add("Retry-After", std::to_string(v.retry_after_seconds));
  } else if (r.status == 429 || r.status == 503 || v.outcome == Outcome::kUnavailable) {
    r.headers.Add("Retry-After", std::to_string(RefreshSeconds(room)));
  }
  AddCookies(v, &r);
  if (json) {
    r.headers.Add("Content-Type", "application/json");
    r.body = QueuedJson(room, v, language, now_ms).dump();
    return r;
  }
  QueuePageValues values;
  values.position = v.position;
  values.wait = v.wait;
  values.now_ms = now_ms;
  values.progress = v.progress;
  values.self_url = self_url;
  PageKind kind = PageKind::kQueued;
  std::string message;
  if (v.outcome == Outcome::kClosed) kind = PageKind::kClosed;
  if (v.outcome == Outcome::kChallenge) {
    kind = PageKind::kChallenge;
    values.challenge = v.challenge;
  }
  if (v.outcome == Outcome::kRefused) {
    kind = PageKind::kRefused;
    message = QueuePage::RateLimitedMessage(v.retry_after_seconds, language);
    values.message = message;
  }
  bool edited = v.awaiting_draw || v.place_unknown || v.outcome == Outcome::kUnavailable ||
                v.notice != RoomNotice::kNone;
  if (!edited) {  // the page as rendered, and its headers: written in place by the proxy
    room.page->RenderBodyInto(language, kind, values, &r.page.emplace());
    return r;
  }
  r.headers.Add("Content-Type", "text/html; charset=utf-8");
  r.headers.Add("Content-Security-Policy", room.page->Csp(language, kind));
  r.headers.Add("X-Content-Type-Options", "nosniff");
  r.headers.Add("Referrer-Policy", "same-origin");
  r.body = room.page->Render(language, kind, values);
  // No position to show: the pre-queue of a scheduled event (until the
  // draw), a place not known yet, or a failing store with on_failure = "closed".
  constexpr std::string_view kLive = "<div id=\"tg-live\" role=\"status\" aria-live=\"polite\">";
  if (v.awaiting_draw) {
    ReplaceElementText(kLive, PrequeueMessage(v.draw_at_ms, now_ms, language), &r.body);
    ReplaceElementText("<dd id=\"tg-position\">", kNoValue, &r.body);
    ReplaceElementText("<dd id=\"tg-wait\">", DrawAtText(v.draw_at_ms, now_ms, language), &r.body);
  } else if (v.place_unknown && v.notice == RoomNotice::kNone) {
    ReplaceElementText(kLive, QueuePage::PlaceUnknownMessage(language), &r.body);
    ReplaceElementText("<dd id=\"tg-position\">", kNoValue, &r.body);
    ReplaceElementText("<dd id=\"tg-wait\">", kNoValue, &r.body);
  } else if (v.outcome == Outcome::kUnavailable) {
    ReplaceElementText(kLive, QueuePage::UnavailableMessage(language), &r.body);
    ReplaceElementText("<dd id=\"tg-position\">", kNoValue, &r.body);
    ReplaceElementText("<dd id=\"tg-wait\">", kNoValue, &r.body);
  } else if (v.notice != RoomNotice::kNone) {
    ReplaceElementText(kLive, RoomNoticeText(v.notice, language), &r.body);
    if (v.position == 0) {
      ReplaceElementText("<dd id=\"tg-position\">", kNoValue, &r.body);
      ReplaceElementText("<dd id=\"tg-wait\">", kNoValue, &r.body);
    }
  }
  return r;
}

Reply StatusReply(const CompiledRoom* room, Visit v, pages::Language language, int64_t now_ms,
                  proxy::HeaderList storage) {
  Reply r;
  r.headers = std::move(storage);
  r.headers.clear();
  AddCookies(v, &r);
  r.headers.Add("Content-Type", "application/json");
  if (room == nullptr) {
    r.body = R"({"in_queue":false,"admitted":false})";
    return r;
  }
  r.body = QueuedJson(*room, v, language, now_ms).dump();
  return r;
}

}  // namespace tidegate::queue
