#include "notify/delivery.h"

#include <openssl/sha.h>

#include <algorithm>

namespace tidegate::notify {

nlohmann::json DeliveryToJson(const Delivery& d) {
  return {{"id", d.id},           {"event_id", d.event_id}, {"event_type", d.event_type},
          {"url", d.url},         {"body", d.body},         {"created_ms", d.created_ms},
          {"next_ms", d.next_ms}, {"attempts", d.attempts}, {"last_error", d.last_error}};
}

std::optional<Delivery> DeliveryFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  auto str = [&](const char* key, std::string* out) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return false;
    *out = it->get<std::string>();
    return true;
  };
  auto num = [&](const char* key, auto* out) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return false;
    *out = it->get<std::remove_pointer_t<decltype(out)>>();
    return true;
  };
  Delivery d;
  bool ok = str("id", &d.id) && str("event_id", &d.event_id) && str("event_type", &d.event_type) &&
            str("url", &d.url) && str("body", &d.body) && num("created_ms", &d.created_ms) &&
            num("next_ms", &d.next_ms) && num("attempts", &d.attempts) &&
            str("last_error", &d.last_error);
  if (!ok || d.id.empty()) return std::nullopt;
  return d;
}

std::string SubscriberKey(const std::string& url) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(url.data()), url.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string key;
  for (int i = 0; i < 4; ++i) {
    key += kHex[digest[i] >> 4];
    key += kHex[digest[i] & 15];
  }
  return key;
}

std::chrono::milliseconds RetryDelay(uint32_t attempts, std::chrono::milliseconds initial,
                                     std::chrono::milliseconds max, double jitter) {
  double delay = static_cast<double>(initial.count());
  for (uint32_t i = 1; i < attempts && delay < static_cast<double>(max.count()); ++i) delay *= 2;
  delay = std::min(delay, static_cast<double>(max.count())) * jitter;
  return std::chrono::milliseconds(static_cast<int64_t>(delay));
}

std::string RedactedUrl(const std::string& url) {
  size_t scheme = url.find("://");
  size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  size_t path = url.find_first_of("/?#", start);
  if (path == std::string::npos || url.size() - path <= 1) return url;
  return url.substr(0, path) + "/…";
}

}  // namespace tidegate::notify
