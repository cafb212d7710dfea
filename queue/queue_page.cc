#include "queue/queue_page.h"

#include <openssl/sha.h>

#include <algorithm>
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

const std::string& QueuePage::Csp(Language language, PageKind kind) const {
  return variants_[static_cast<size_t>(language) * kPageKinds + static_cast<size_t>(kind)].csp;
}

std::string QueuePage::PositionMessage(uint64_t position, Language language) {
  std::string n = std::to_string(position);
  return language == Language::kFrench ? "Vous êtes numéro " + n + " dans la file."
                                       : "You are number " + n + " in line.";
}

std::string QueuePage::ClockText(int64_t now_ms) {
  pages::WallTime now{std::chrono::milliseconds(now_ms)};
  return pages::FormatClock(now) + " " + pages::ZoneAbbreviation(now);
}

std::string QueuePage::ComingTimeText(int64_t at_ms, int64_t now_ms, Language language) {
  // Whole seconds (floor): "before 14:30:58" stays true of 14:30:58.400.
  int64_t second = at_ms >= 0 ? at_ms / 1000 * 1000 : (at_ms - 999) / 1000 * 1000;
  return pages::FormatClockOrDateWithZone(pages::WallTime(std::chrono::milliseconds(second)),
                                          pages::WallTime(std::chrono::milliseconds(now_ms)),
                                          language, /*seconds=*/second % 60'000 != 0);
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

std::string QueuePage::PlaceUnknownMessage(Language language) {
  return language == Language::kFrench
             ? "Nous rétablissons la liaison avec la file. Votre place est gardée : cette page "
               "réessaie d'elle-même."
             : "We are reconnecting to the line. Your place is kept: this page tries again by "
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
