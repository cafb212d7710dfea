// QueuePage's per-request half: one visitor's values formatted once
// (RenderBody) and the page written from its pre-rendered pieces
// (PageBody). The load-time half (Build, Prepare, texts) is queue_page.cc.
#include <time.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

#include "pages/html_escape.h"
#include "pages/local_time.h"
#include "queue/queue_page.h"

namespace tidegate::queue {
namespace {

using pages::Language;

// The bytes HTML escapes, as a table (one load per byte of a value).
constexpr std::array<bool, 256> kHtmlSpecial = [] {
  std::array<bool, 256> special{};
  for (unsigned char c : std::string_view("&<>\"'")) special[c] = true;
  return special;
}();

// HTML-escaped text; most values need no escaping and are copied at once.
void AppendText(std::string_view text, std::string* out) {
  for (char c : text) {
    if (kHtmlSpecial[static_cast<unsigned char>(c)]) {
      pages::AppendEscapedHtml(text, out);
      return;
    }
  }
  out->append(text);
}

template <typename T>
void AppendNumber(T number, std::string* out) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, number);
  out->append(digits, end);
}

// pages::FormatIsoLocal without printf (per request): "2026-11-23T14:30:05+01:00".
constexpr size_t kIsoBytes = 25;
void FormatIsoLocalUncached(int64_t now_ms, char (&out)[kIsoBytes]) {
  time_t seconds = static_cast<time_t>(now_ms / 1000);
  struct tm t {};
  localtime_r(&seconds, &t);
  auto two = [&out](size_t at, long value) {
    out[at] = static_cast<char>('0' + value / 10 % 10);
    out[at + 1] = static_cast<char>('0' + value % 10);
  };
  long year = std::clamp(t.tm_year + 1900L, 0L, 9999L);
  two(0, year / 100);
  two(2, year % 100);
  out[4] = '-';
  two(5, t.tm_mon + 1);
  out[7] = '-';
  two(8, t.tm_mday);
  out[10] = 'T';
  two(11, t.tm_hour);
  out[13] = ':';
  two(14, t.tm_min);
  out[16] = ':';
  two(17, t.tm_sec);
  long offset = t.tm_gmtoff;
  out[19] = offset < 0 ? '-' : '+';
  if (offset < 0) offset = -offset;
  two(20, offset / 3600);
  out[22] = ':';
  two(23, offset / 60 % 60);
}

// The same, and the zone's abbreviation ("CET"), converted once per second
// and thread: localtime_r takes the time-zone lock and walks the zone's rules
// on every call, and every page of one second shows the same time. Keyed on
// the zone too: glibc's localtime_r sees a new TZ only after tzset(), which
// updates tzname and timezone (tests change zones).
struct LocalNow {
  std::string_view iso;   // "2026-11-23T14:30:05+01:00"
  std::string_view zone;  // "CET"
};
LocalNow CachedLocalNow(int64_t now_ms) {
  thread_local int64_t cached_second = INT64_MIN;
  thread_local const char* cached_names[2] = {nullptr, nullptr};
  thread_local long cached_offset = 0;
  thread_local char cached[kIsoBytes];
  thread_local std::string cached_zone;
  int64_t second = now_ms >= 0 ? now_ms / 1000 : (now_ms - 999) / 1000;
  if (second != cached_second || tzname[0] != cached_names[0] || tzname[1] != cached_names[1] ||
      timezone != cached_offset) {
    FormatIsoLocalUncached(now_ms, cached);  // localtime_r: may set tzname the first time
    cached_zone = pages::ZoneAbbreviation(pages::WallTime(std::chrono::milliseconds(now_ms)));
    cached_second = second;
    cached_names[0] = tzname[0];
    cached_names[1] = tzname[1];
    cached_offset = timezone;
  }
  return {std::string_view(cached, kIsoBytes), cached_zone};
}

// The wait as text ("less than a minute", "under 3 min", "2 to 5 min"),
// written into `buffer` (no allocation per page).
constexpr size_t kWaitTextBytes = 96;
std::string_view FormatWait(const WaitRange& wait, Language language,
                            char (&buffer)[kWaitTextBytes]) {
  bool fr = language == Language::kFrench;
  // A line that stopped: a range would be a guess (queue/eta.h).
  if (wait.stalled) {
    return fr ? "inconnue : la file n'avance plus pour le moment"
              : "unknown: the line is not moving at the moment";
  }
  if (wait.more_than) return fr ? "plus de 4 heures" : "more than 4 hours";
  if (wait.high_seconds <= 60) return fr ? "moins d'une minute" : "less than a minute";
  char* at = buffer;
  char* end = buffer + sizeof buffer;
  auto text = [&](std::string_view t) { at = std::copy(t.begin(), t.end(), at); };
  auto number = [&](int64_t n) { at = std::to_chars(at, end, n).ptr; };
  if (wait.low_seconds < 60) {
    text(fr ? "moins de " : "under ");
  } else {
    number(wait.low_seconds / 60);
    text(fr ? " à " : " to ");
  }
  number((wait.high_seconds + 59) / 60);
  text(" min");
  return std::string_view(buffer, static_cast<size_t>(at - buffer));
}

// The wait as the page shows it (FormatWait, HTML-escaped), made once per
// thread for a range and language: a range is a step of 10 s to 15 min
// (queue/eta.h), so the visitors of a queue see a handful of them, one
// after the other, each the same text.
std::string_view WaitHtml(const WaitRange& wait, Language language) {
  struct Cache {
    int64_t low_seconds = -1;
    int64_t high_seconds = -1;
    bool more_than = false;
    bool stalled = false;
    Language language = Language::kEnglish;
    std::string html;
  };
  thread_local Cache cache;
  if (wait.low_seconds != cache.low_seconds || wait.high_seconds != cache.high_seconds ||
      wait.more_than != cache.more_than || wait.stalled != cache.stalled ||
      language != cache.language) {
    char buffer[kWaitTextBytes];
    cache.html.clear();
    AppendText(FormatWait(wait, language, buffer), &cache.html);
    cache.low_seconds = wait.low_seconds;
    cache.high_seconds = wait.high_seconds;
    cache.more_than = wait.more_than;
    cache.stalled = wait.stalled;
    cache.language = language;
  }
  return cache.html;
}
}  // namespace

PageBody QueuePage::RenderBody(Language language, PageKind kind,
                               const QueuePageValues& values) const {
  PageBody body;
  RenderBodyInto(language, kind, values, &body);
  return body;
}

void QueuePage::RenderBodyInto(Language language, PageKind kind, const QueuePageValues& values,
                               PageBody* into) const {
  const Variant& v =
      variants_[static_cast<size_t>(language) * kPageKinds + static_cast<size_t>(kind)];
  PageBody& body = *into;
  body.variant_ = &v;
  // Formatted in the thread's scratch string (its capacity stays), then
  // copied into the body (in place when short): no allocation per page.
  thread_local std::string scratch;
  std::string& out = scratch;
  out.clear();
  auto has = [&v](Slot slot) { return (v.slots & (1u << static_cast<unsigned>(slot))) != 0; };
  // Each value the variant shows, once, in `out`; spans_ say where.
  auto put = [&body, &out, &has](Slot slot, auto&& append) {
    if (!has(slot)) return;
    size_t at = out.size();
    append();
    body.spans_[static_cast<size_t>(slot)] = {static_cast<uint32_t>(at),
                                              static_cast<uint32_t>(out.size() - at)};
  };
  // One local-time conversion for both times: "2026-11-23T14:30:05+01:00",
  // whose characters 11-15 are the clock ("14:30"), and the zone ("CET").
  LocalNow local = v.has_time ? CachedLocalNow(values.now_ms) : LocalNow{};
  std::string_view iso = local.iso;
  put(Slot::kPosition, [&] { AppendNumber(values.position, &out); });
  put(Slot::kWait, [&] { out += WaitHtml(values.wait, language); });
  put(Slot::kUpdated, [&] {
    out += iso.substr(11, 5);
    out += ' ';
    out += local.zone;
  });
  put(Slot::kUpdatedIso, [&] { out += iso; });
  put(Slot::kProgress, [&] { AppendNumber(values.progress, &out); });
  put(Slot::kSelfUrl, [&] { AppendText(values.self_url, &out); });
  put(Slot::kChallenge, [&] { AppendText(values.challenge, &out); });
  put(Slot::kMessage, [&] { AppendText(values.message, &out); });
  put(Slot::kNotice, [&] {
    if (notice_) notice_->Append(language, &out);
  });
  body.SetValues(out);
  body.size_ = v.literal_bytes;
  for (const Piece& piece : v.pieces) {
    if (piece.slot != Slot::kLiteral)
      body.size_ += body.spans_[static_cast<size_t>(piece.slot)].size;
  }
}

std::string QueuePage::Render(Language language, PageKind kind,
                              const QueuePageValues& values) const {
  return RenderBody(language, kind, values).ToString();
}

void PageBody::SetValues(std::string_view values) {
  if (values.size() <= inline_.size()) {
    std::memcpy(inline_.data(), values.data(), values.size());
    inline_size_ = static_cast<uint32_t>(values.size());
    heap_.clear();
    return;
  }
  heap_.assign(values);
}

void PageBody::WriteTo(char* out) const {
  for (const QueuePage::Piece& piece : variant_->pieces) {
    std::string_view text =
        piece.slot == QueuePage::Slot::kLiteral ? std::string_view(piece.text) : Value(piece.slot);
    std::memcpy(out, text.data(), text.size());
    out += text.size();
  }
}

int PageBody::Gather(size_t copy_below, char* copy, std::string_view* out, int max) const {
  int n = 0;
  const char* run = copy;                      // the copied bytes not yet in a view
  const char* values = this->values().data();  // (looked up once, not per piece)
  for (const QueuePage::Piece& piece : variant_->pieces) {
    std::string_view text;
    if (piece.slot == QueuePage::Slot::kLiteral) {
      text = piece.text;
    } else {
      const Span& s = spans_[static_cast<size_t>(piece.slot)];
      text = std::string_view(values + s.at, s.size);
    }
    if (text.size() < copy_below) {
      if (text.empty()) continue;  // (may hold no pointer: memcpy must not see it)
      std::memcpy(copy, text.data(), text.size());
      copy += text.size();
      continue;
    }
    if (n + 2 > max) return -1;
    if (copy > run) out[n++] = std::string_view(run, static_cast<size_t>(copy - run));
    run = copy;
    out[n++] = text;
  }
  if (copy > run) {
    if (n == max) return -1;
    out[n++] = std::string_view(run, static_cast<size_t>(copy - run));
  }
  return n;
}

std::string PageBody::ToString() const {
  std::string text(size_, '\0');
  WriteTo(text.data());
  return text;
}
std::string QueuePage::WaitText(const WaitRange& wait, Language language) {
  char buffer[kWaitTextBytes];
  return std::string(FormatWait(wait, language, buffer));
}
}  // namespace tidegate::queue
