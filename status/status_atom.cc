#include <algorithm>
#include <chrono>

#include "common/rfc3339.h"
#include "pages/html_escape.h"
#include "pages/incident_text.h"
#include "status/status_formats.h"

namespace tidegate::status {
namespace {

struct Entry {
  std::string id;  // fragment of the status page's URL, unique per entry
  std::string title;
  std::string summary;
  common::TimePoint updated;
};

int64_t Seconds(common::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// One entry per update: "<title> — Identified" with the message and, while
// the incident is open, the promise of the next update.
void AddIncidentEntries(const state::Incident& incident, pages::Language language,
                        std::vector<Entry>* out) {
  for (size_t i = 0; i < incident.updates.size(); ++i) {
    const state::IncidentUpdate& u = incident.updates[i];
    Entry e;
    e.id = "incident-" + incident.id + "-" + std::to_string(i + 1);
    e.title =
        incident.title + " — " +
        std::string(pages::IncidentStatusLabel(state::IncidentStatusName(u.status), language));
    e.summary = u.message;
    if (u.next_update_at && u.status != state::IncidentStatus::kResolved) {
      // Written at the time of the update: a feed entry does not change later.
      e.summary += " (" + pages::NextUpdateText(*u.next_update_at, u.at, language) + ")";
    }
    e.updated = u.at;
    out->push_back(std::move(e));
  }
}

void AddNoticeEntry(const Notice& n, common::TimePoint now, std::vector<Entry>* out) {
  Entry e;
  common::TimePoint updated = n.since.value_or(now);
  e.id = n.id + "-" + std::to_string(Seconds(updated));
  if (n.kind == Notice::Kind::kBanner) {
    e.title = "Notice: " + n.message;
  } else {
    e.title = std::string(n.phase == state::Phase::kScheduled ? "Planned maintenance: "
                                                              : "Maintenance: ") +
              n.feature;
  }
  e.summary = n.message;
  if (n.starts_at && n.phase == state::Phase::kScheduled) {
    e.summary += " (from " + common::FormatRfc3339(*n.starts_at) + ")";
  }
  if (n.until) e.summary += " (until " + common::FormatRfc3339(*n.until) + ")";
  e.updated = updated;
  out->push_back(std::move(e));
}

}  // namespace

std::string StatusAtom(const config::Config& config, const StatusStory& story,
                       common::TimePoint now, const std::string& base_url,
                       pages::Language language) {
  std::vector<Entry> entries;
  for (const state::Incident* incident : story.open) {
    AddIncidentEntries(*incident, language, &entries);
  }
  for (const state::Incident* incident : story.past) {
    AddIncidentEntries(*incident, language, &entries);
  }
  for (const Notice& n : story.notices) AddNoticeEntry(n, now, &entries);
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.updated > b.updated; });

  std::string name = config.site.name.empty() ? "Shop" : config.site.name;
  std::string page = pages::EscapeHtml(base_url) + "/.tidegate/status";
  // The feed changes when its newest entry does (readers poll it).
  common::TimePoint updated = entries.empty() ? now : entries.front().updated;
  std::string out = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";
  out += "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"" +
         std::string(pages::LanguageCode(language)) + "\">\n";
  out += "  <title>" + pages::EscapeHtml(name) + " status</title>\n";
  out += "  <id>" + page + "</id>\n";
  out += "  <link rel=\"alternate\" type=\"text/html\" href=\"" + page + "\"/>\n";
  out += "  <link rel=\"self\" href=\"" + page + ".atom\"/>\n";
  out += "  <updated>" + common::FormatRfc3339(updated) + "</updated>\n";
  out += "  <author><name>" + pages::EscapeHtml(name) + "</name></author>\n";
  for (const Entry& e : entries) {
    out += "  <entry>\n";
    out += "    <id>" + page + "#" + pages::EscapeHtml(e.id) + "</id>\n";
    out += "    <title>" + pages::EscapeHtml(e.title) + "</title>\n";
    out += "    <link rel=\"alternate\" type=\"text/html\" href=\"" + page + "\"/>\n";
    out += "    <updated>" + common::FormatRfc3339(e.updated) + "</updated>\n";
    out += "    <summary>" + pages::EscapeHtml(e.summary) + "</summary>\n";
    out += "  </entry>\n";
  }
  out += "</feed>\n";
  return out;
}

}  // namespace tidegate::status
