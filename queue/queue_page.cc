#include "queue/queue_page.h"

#include <openssl/sha.h>

#include <time.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <set>

#include "common/base64url.h"
#include "pages/html_escape.h"
#include "pages/local_time.h"
#include "pages/page_template.h"
#include "queue/queue_page_template.h"

namespace tidegate::queue {
namespace {

using pages::Language;

// Per-visitor placeholders: rendered into the page as these markers, then
// cut out. '@' survives HTML escaping unchanged.
struct Marker {
  const char* name;
  const char* marker;
};
constexpr Marker kMarkers[] = {
    {"position", "@@TG_POSITION@@"},   {"wait", "@@TG_WAIT@@"},
    {"updated", "@@TG_UPDATED@@"},     {"updated_iso", "@@TG_UPDATED_ISO@@"},
    {"progress", "@@TG_PROGRESS@@"},   {"self_url", "@@TG_SELF_URL@@"},
    {"challenge", "@@TG_CHALLENGE@@"}, {"message", "@@TG_MESSAGE@@"},
    {"notice", "@@TG_NOTICE@@"},
};

struct Strings {
  const char* title;
  const char* heading;
  const char* intro;
  const char* closed_heading;
  const char* closed_text;
  const char* position_label;
  const char* wait_label;
  const char* updated_label;
  const char* progress_label;
  const char* check_again;
  const char* live_text;
  const char* status_label;
  // Join challenge and refused joins.
  const char* challenge_heading;
  const char* challenge_intro;
  const char* challenge_live;
  const char* challenge_progress_label;
  const char* challenge_noscript;
  const char* challenge_done;
  const char* challenge_fail;
  const char* refused_heading;
};

const Strings kEnglish = {
    "You are in the queue",
    "You are in the queue",
    "The shop is limiting how many shoppers come in at once, so that it stays fast for "
    "everyone inside. We keep your place and let you in automatically: keep this page open.",
    "Sales are closed",
    "This sale is closed for now. Thank you for your interest.",
    "Your place in line",
    "Estimated wait",
    "Last updated",
    "Progress",
    "Check again",
    "You are number @@TG_POSITION@@ in line.",
    "Shop status",
    "Joining the queue",
    "To keep the line fair, your browser does a short calculation before it gets its place. "
    "It takes a second or two: keep this page open.",
    "Your browser is getting your place in line…",
    "Calculation",
    "This queue asks your browser to do a short calculation before giving it a place in line, "
    "and that needs JavaScript. Turn JavaScript on for this shop and reload the page: without "
    "it you cannot join the queue.",
    "Done: joining the line…",
    "Your browser could not finish the calculation. Reload the page to try again.",
    "Please wait a moment",
};

const Strings kFrench = {
    "Vous êtes dans la file d'attente",
    "Vous êtes dans la file d'attente",
    "La boutique limite le nombre de clients qui entrent en même temps, pour rester rapide "
    "pour tous ceux qui sont à l'intérieur. Nous gardons votre place et vous laissons entrer "
    "automatiquement : gardez cette page ouverte.",
    "Les ventes sont fermées",
    "Cette vente est fermée pour le moment. Merci de votre intérêt.",
    "Votre place dans la file",
    "Attente estimée",
    "Dernière mise à jour",
    "Progression",
    "Vérifier à nouveau",
    "Vous êtes numéro @@TG_POSITION@@ dans la file.",
    "État de la boutique",
    "Entrée dans la file d'attente",
    "Pour que la file reste équitable, votre navigateur fait un court calcul avant d'obtenir "
    "sa place. Cela prend une seconde ou deux : gardez cette page ouverte.",
    "Votre navigateur obtient votre place dans la file…",
    "Calcul",
    "Cette file demande à votre navigateur un court calcul avant de lui donner une place, et "
    "ce calcul a besoin de JavaScript. Activez JavaScript pour cette boutique et rechargez la "
    "page : sans lui, vous ne pouvez pas entrer dans la file.",
    "Terminé : entrée dans la file…",
    "Votre navigateur n'a pas pu terminer le calcul. Rechargez la page pour réessayer.",
    "Merci de patienter un instant",
};

std::string Sha256Base64(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  std::string url =
      common::Base64UrlEncode(std::string_view(reinterpret_cast<char*>(digest), sizeof digest));
  // CSP wants standard base64 with padding.
  for (char& c : url) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (url.size() % 4 != 0) url += '=';
  return url;
}

// The hashes of the contents of every inline <tag>…</tag> block.
std::string HashSources(const std::string& html, const std::string& tag) {
  std::string sources;
  std::string open = "<" + tag + ">";
  std::string close = "</" + tag + ">";
  size_t at = 0;
  while ((at = html.find(open, at)) != std::string::npos) {
    size_t start = at + open.size();
    size_t end = html.find(close, start);
    if (end == std::string::npos) break;
    sources += " 'sha256-" + Sha256Base64(std::string_view(html).substr(start, end - start)) + "'";
    at = end + close.size();
  }
  return sources.empty() ? " 'none'" : sources;
}

// HTML-escaped text; most values need no escaping and are copied at once.
void AppendText(std::string_view text, std::string* out) {
  for (char c : text) {
    if (c == '&' || c == '<' || c == '>' || c == '"' || c == '\'') {
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

// The same, converted once per second and thread: localtime_r takes the
// time-zone lock and walks the zone's rules on every call, and every page
// of one second shows the same time. Keyed on the zone too: glibc's
// localtime_r sees a new TZ only after tzset(), which updates tzname and
// timezone (tests change zones).
std::string_view FormatIsoLocal(int64_t now_ms) {
  thread_local int64_t cached_second = INT64_MIN;
  thread_local const char* cached_names[2] = {nullptr, nullptr};
  thread_local long cached_offset = 0;
  thread_local char cached[kIsoBytes];
  int64_t second = now_ms >= 0 ? now_ms / 1000 : (now_ms - 999) / 1000;
  if (second != cached_second || tzname[0] != cached_names[0] || tzname[1] != cached_names[1] ||
      timezone != cached_offset) {
    FormatIsoLocalUncached(now_ms, cached);  // localtime_r: may set tzname the first time
    cached_second = second;
    cached_names[0] = tzname[0];
    cached_names[1] = tzname[1];
    cached_offset = timezone;
  }
  return std::string_view(cached, kIsoBytes);
}

// The wait as text ("less than a minute", "under 3 min", "2 to 5 min"),
// written into `buffer` (no allocation per page).
constexpr size_t kWaitTextBytes = 96;
std::string_view FormatWait(const WaitRange& wait, Language language,
                            char (&buffer)[kWaitTextBytes]) {
  bool fr = language == Language::kFrench;
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

}  // namespace

std::optional<QueuePage::Variant> QueuePage::Prepare(const std::string& rendered, bool worker,
                                                     std::string* error) {
  Variant v;
  size_t at = 0;
  while (at < rendered.size()) {
    size_t next = std::string::npos;
    Slot slot = Slot::kLiteral;
    size_t marker_size = 0;
    for (size_t i = 0; i < std::size(kMarkers); ++i) {
      size_t found = rendered.find(kMarkers[i].marker, at);
      if (found < next) {
        next = found;
        slot = static_cast<Slot>(i + 1);
        marker_size = std::string_view(kMarkers[i].marker).size();
      }
    }
    std::string literal = rendered.substr(at, next == std::string::npos ? next : next - at);
    v.literal_bytes += literal.size();
    if (!literal.empty()) v.pieces.push_back({Slot::kLiteral, std::move(literal)});
    if (next == std::string::npos) break;
    v.pieces.push_back({slot, {}});
    v.slots |= 1u << static_cast<unsigned>(slot);
    v.has_time = v.has_time || slot == Slot::kUpdated || slot == Slot::kUpdatedIso;
    at = next + marker_size;
  }
  if (v.literal_bytes > 20'000) {
    *error = "queue page template: " + std::to_string(v.literal_bytes) +
             " bytes rendered; keep it under 20 KB";
    return std::nullopt;
  }
  v.csp = "default-src 'none'; script-src" + HashSources(rendered, "script") + "; style-src" +
          HashSources(rendered, "style") +
          "; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; "
          "frame-ancestors 'none'";
  // The challenge page's solver runs in a worker made from a Blob of the
  // page's own (hash-allowed) script.
  if (worker) v.csp += "; worker-src blob:";
  v.fields = "Content-Type: text/html; charset=utf-8\r\nContent-Security-Policy: " + v.csp +
             "\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: same-origin\r\n";
  return v;
}

bool QueuePage::HasSlot(const Variant& v, Slot slot) {
  for (const Piece& p : v.pieces) {
    if (p.slot == slot) return true;
  }
  return false;
}

std::optional<QueuePage> QueuePage::Build(const config::SiteConfig& site, const std::string& room,
                                          int refresh_seconds, std::string* error,
                                          int challenge_bits,
                                          std::shared_ptr<const QueuePageNotice> notice) {
  std::optional<pages::PageTemplate> tpl =
      pages::PageTemplate::Load(site.templates_dir, "queue.html", kQueuePageTemplate, error);
  if (!tpl) return std::nullopt;
  std::optional<pages::PageTemplate> builtin;  // for a merchant template without the new slots
  QueuePage page;
  page.origin_ = tpl->origin();
  page.notice_ = std::move(notice);
  for (Language language : {Language::kEnglish, Language::kFrench}) {
    const Strings& s = language == Language::kFrench ? kFrench : kEnglish;
    for (size_t k = 0; k < kPageKinds; ++k) {
      PageKind kind = static_cast<PageKind>(k);
      bool closed = kind == PageKind::kClosed;
      pages::TemplateData data;
      data.set("lang", std::string(pages::LanguageCode(language)));
      for (const auto& [key, value] : {std::pair{"title", s.title},
                                       {"heading", s.heading},
                                       {"intro", s.intro},
                                       {"closed_heading", s.closed_heading},
                                       {"closed_text", s.closed_text},
                                       {"position_label", s.position_label},
                                       {"wait_label", s.wait_label},
                                       {"updated_label", s.updated_label},
                                       {"progress_label", s.progress_label},
                                       {"check_again", s.check_again},
                                       {"live_text", s.live_text},
                                       {"status_label", s.status_label},
                                       {"challenge_heading", s.challenge_heading},
                                       {"challenge_intro", s.challenge_intro},
                                       {"challenge_live", s.challenge_live},
                                       {"challenge_progress_label", s.challenge_progress_label},
                                       {"challenge_noscript", s.challenge_noscript},
                                       {"challenge_done", s.challenge_done},
                                       {"challenge_fail", s.challenge_fail},
                                       {"refused_heading", s.refused_heading}}) {
        data.set(key, std::string(value));
      }
      if (closed) data.set("title", std::string(s.closed_heading));
      if (kind == PageKind::kChallenge) data.set("title", std::string(s.challenge_heading));
      if (kind == PageKind::kRefused) data.set("title", std::string(s.refused_heading));
      data.set("closed", pages::TemplateData(closed));
      data.set("queued", pages::TemplateData(kind == PageKind::kQueued));
      data.set("solving", pages::TemplateData(kind == PageKind::kChallenge));
      data.set("refused", pages::TemplateData(kind == PageKind::kRefused));
      data.set("challenge_bits", std::to_string(challenge_bits));
      if (!site.name.empty()) data.set("shop_name", site.name);
      if (!site.status_page_url.empty()) data.set("status_url", site.status_page_url);
      data.set("room", room);
      data.set("refresh_seconds", std::to_string(refresh_seconds));
      data.set("poll_url", "/.tidegate/queue?room=" + room);
      for (const Marker& m : kMarkers) data.set(m.name, std::string(m.marker));
      bool challenge = kind == PageKind::kChallenge;
      std::optional<Variant> v = Prepare(tpl->Render(data), challenge, error);
      if (!v) return std::nullopt;
      Slot needed = challenge ? Slot::kChallenge : Slot::kMessage;
      if ((challenge || kind == PageKind::kRefused) && !HasSlot(*v, needed)) {
        if (!builtin)
          builtin = pages::PageTemplate::Load("", "queue.html", kQueuePageTemplate, error);
        if (!builtin) return std::nullopt;
        v = Prepare(builtin->Render(data), challenge, error);
        if (!v) return std::nullopt;
      }
      page.variants_[static_cast<size_t>(language) * kPageKinds + k] = std::move(*v);
    }
  }
  return page;
}

PageBody QueuePage::RenderBody(Language language, PageKind kind,
                               const QueuePageValues& values) const {
  const Variant& v =
      variants_[static_cast<size_t>(language) * kPageKinds + static_cast<size_t>(kind)];
  PageBody body;
  body.variant_ = &v;
  std::string& out = body.values_;
  out.reserve(128 + values.self_url.size() * 2 + values.challenge.size() + values.message.size());
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
  // whose characters 11-15 are the clock ("14:30").
  std::string_view iso = v.has_time ? FormatIsoLocal(values.now_ms) : std::string_view();
  char wait[kWaitTextBytes];
  put(Slot::kPosition, [&] { AppendNumber(values.position, &out); });
  put(Slot::kWait, [&] { AppendText(FormatWait(values.wait, language, wait), &out); });
  put(Slot::kUpdated, [&] { out += iso.substr(11, 5); });
  put(Slot::kUpdatedIso, [&] { out += iso; });
  put(Slot::kProgress, [&] { AppendNumber(values.progress, &out); });
  put(Slot::kSelfUrl, [&] { AppendText(values.self_url, &out); });
  put(Slot::kChallenge, [&] { AppendText(values.challenge, &out); });
  put(Slot::kMessage, [&] { AppendText(values.message, &out); });
  put(Slot::kNotice, [&] {
    if (notice_) notice_->Append(language, &out);
  });
  body.size_ = v.literal_bytes;
  for (const Piece& piece : v.pieces) {
    if (piece.slot != Slot::kLiteral)
      body.size_ += body.spans_[static_cast<size_t>(piece.slot)].size;
  }
  return body;
}

std::string QueuePage::Render(Language language, PageKind kind,
                              const QueuePageValues& values) const {
  return RenderBody(language, kind, values).ToString();
}

void PageBody::WriteTo(char* out) const {
  for (const QueuePage::Piece& piece : variant_->pieces) {
    std::string_view text =
        piece.slot == QueuePage::Slot::kLiteral ? std::string_view(piece.text) : Value(piece.slot);
    std::memcpy(out, text.data(), text.size());
    out += text.size();
  }
}

std::string PageBody::ToString() const {
  std::string text(size_, '\0');
  WriteTo(text.data());
  return text;
}

const std::string& QueuePage::Csp(Language language, PageKind kind) const {
  return variants_[static_cast<size_t>(language) * kPageKinds + static_cast<size_t>(kind)].csp;
}

std::string QueuePage::WaitText(const WaitRange& wait, Language language) {
  char buffer[kWaitTextBytes];
  return std::string(FormatWait(wait, language, buffer));
}

std::string QueuePage::PositionMessage(uint64_t position, Language language) {
  std::string n = std::to_string(position);
  return language == Language::kFrench ? "Vous êtes numéro " + n + " dans la file."
                                       : "You are number " + n + " in line.";
}

std::string QueuePage::ClockText(int64_t now_ms) {
  return pages::FormatClock(pages::WallTime(std::chrono::milliseconds(now_ms)));
}

std::string QueuePage::ClosedMessage(Language language) {
  return language == Language::kFrench ? kFrench.closed_text : kEnglish.closed_text;
}

std::string QueuePage::UnavailableMessage(Language language) {
  return language == Language::kFrench
             ? "Nous ne pouvons pas vérifier votre place pour le moment. Vous la gardez : "
               "cette page réessaie d'elle-même."
             : "We cannot check your place right now. You keep it: this page tries again by "
               "itself.";
}

std::string QueuePage::ChallengeMessage(Language language) {
  return language == Language::kFrench ? kFrench.challenge_live : kEnglish.challenge_live;
}

std::string QueuePage::RateLimitedMessage(int retry_after_seconds, Language language) {
  std::string n = std::to_string(retry_after_seconds);
  return language == Language::kFrench
             ? "Trop de places dans la file ont été demandées depuis votre réseau dans la "
               "dernière minute. Réessayez dans " +
                   n + " secondes."
             : "Too many places in line were asked for from your network in the last minute. "
               "Try again in " +
                   n + " seconds.";
}

std::string QueuePage::AdmittedMessage(Language language) {
  return language == Language::kFrench ? "C'est votre tour : entrée dans la boutique…"
                                       : "It's your turn: entering the shop…";
}

}  // namespace tidegate::queue
