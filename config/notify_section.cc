// [notify] and [[notify.webhooks]]: subscribers told about incidents,
// maintenance and room modes (docs/webhooks.md).
#include <algorithm>

#include "config/file_checks.h"
#include "config/secret_file.h"
#include "config/sections.h"
#include "config/table_reader.h"

namespace tidegate::config {
namespace {

constexpr size_t kMinWebhookSecretBytes = 16;

// "is not an event type (did you mean "x"?)" or the whole list.
std::string UnknownEventMessage(const std::string& name) {
  std::string best;
  size_t best_distance = 4;  // suggest only close names
  std::string all;
  for (std::string_view type : kNotifyEventTypes) {
    all += (all.empty() ? "\"" : ", \"") + std::string(type) + "\"";
    size_t d = EditDistance(name, type);
    if (d < best_distance) {
      best_distance = d;
      best = type;
    }
  }
  if (!best.empty()) {
    return "\"" + name + "\" is not an event type (did you mean \"" + best + "\"?)";
  }
  return "\"" + name + "\" is not an event type; use one of " + all;
}

// http:// or https://, a host, an optional port and path; no credentials.
std::string CheckWebhookUrl(const std::string& url) {
  size_t scheme_end = url.find("://");
  std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    return "\"" + url + "\" is not an http:// or https:// URL";
  }
  std::string rest = url.substr(scheme_end + 3);
  std::string authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty() || authority.front() == ':') return "\"" + url + "\" has no host";
  if (authority.find('@') != std::string::npos) {
    return "\"" + url + "\" carries credentials; the signature authenticates tidegate";
  }
  if (url.find_first_of(" \t\r\n") != std::string::npos) return "\"" + url + "\" contains spaces";
  return "";
}

void ReadWebhookSecret(TableReader& reader, const toml::table& table, WebhookConfig* hook) {
  if (!reader.Require("secret_file") || !reader.ReadString("secret_file", &hook->secret_file)) {
    return;
  }
  const toml::node& node = *table.get("secret_file");
  hook->secret_file = ResolvePath(FolderOf(node), hook->secret_file);
  std::string error;
  std::optional<std::string> secret = ReadSecretFile(hook->secret_file, &error);
  if (!secret) {
    reader.Error(node, "secret_file", error);
    return;
  }
  if (secret->size() < kMinWebhookSecretBytes) {
    reader.Error(node, "secret_file",
                 "\"" + hook->secret_file + "\" holds " + std::to_string(secret->size()) +
                     " bytes; a webhook secret needs at least " +
                     std::to_string(kMinWebhookSecretBytes));
    return;
  }
  hook->secret = std::move(*secret);
}

void ReadWebhook(TableReader& reader, const toml::table& table, Diagnostics* diagnostics,
                 NotifyConfig* out) {
  WebhookConfig hook;
  if (reader.Require("url") && reader.ReadString("url", &hook.url)) {
    std::string problem = CheckWebhookUrl(hook.url);
    if (!problem.empty()) reader.Error(*table.get("url"), "url", problem);
    for (const WebhookConfig& other : out->webhooks) {
      if (!hook.url.empty() && other.url == hook.url) {
        reader.Error(*table.get("url"), "url",
                     "\"" + hook.url + "\" is already the url of another webhook");
      }
    }
  }
  ReadWebhookSecret(reader, table, &hook);
  if (reader.ReadStringArray("events", &hook.events)) {
    const toml::array& array = *table.get("events")->as_array();
    for (size_t i = 0; i < hook.events.size(); ++i) {
      const std::string& name = hook.events[i];
      bool known = std::find(std::begin(kNotifyEventTypes), std::end(kNotifyEventTypes), name) !=
                   std::end(kNotifyEventTypes);
      if (!known) {
        diagnostics->Add(*array.get(i), reader.KeyPath("events") + "[" + std::to_string(i) + "]",
                         UnknownEventMessage(name));
      }
    }
  }
  out->webhooks.push_back(std::move(hook));
}

}  // namespace

void ReadNotifySection(const toml::table* table, Diagnostics* diagnostics, NotifyConfig* out) {
  using std::chrono::hours;
  using std::chrono::milliseconds;
  TableReader notify(table, "notify", diagnostics);
  notify.ReadDuration("timeout", Duration{100}, Duration{60'000}, &out->timeout);
  notify.ReadDuration("retry_initial", Duration{100}, Duration{3'600'000}, &out->retry_initial);
  notify.ReadDuration("retry_max", Duration{1'000}, Duration{86'400'000}, &out->retry_max);
  notify.ReadDuration("give_up_after", hours(1), hours(24 * 14), &out->give_up_after);
  if (out->retry_max < out->retry_initial && table != nullptr) {
    notify.TableError("retry_max", "is shorter than retry_initial");
  }
  ForEachTable(notify, "webhooks", diagnostics,
               "{ url = \"https://...\", secret_file = \"...\", events = [...] }",
               [&](TableReader& reader, const toml::table& hook) {
                 ReadWebhook(reader, hook, diagnostics, out);
               });
  notify.ReportUnknownKeys();
}

}  // namespace tidegate::config
