// One webhook delivery: an event's body for one subscriber, with its
// retry bookkeeping, as the outbox keeps it (notify/outbox.h), and the
// retry schedule.
//
// Contract: plain values and pure functions (thread-safe).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace tidegate::notify {

struct Delivery {
  std::string id;          // "<event id>.<subscriber key>": unique, the outbox's key
  std::string event_id;    // the body's "id"
  std::string event_type;  // the body's "type"
  std::string url;         // the subscriber ([[notify.webhooks]].url)
  std::string body;        // the exact bytes POSTed (signed at every attempt)
  int64_t created_ms = 0;  // unix milliseconds: when the event happened
  int64_t next_ms = 0;     // unix milliseconds: next attempt not before
  uint32_t attempts = 0;   // attempts made so far
  std::string last_error;  // of the last failed attempt ("" before any)
};

nlohmann::json DeliveryToJson(const Delivery& d);
// nullopt when `j` lacks a field or has one of the wrong type.
std::optional<Delivery> DeliveryFromJson(const nlohmann::json& j);

// A short key naming a subscriber in delivery ids (8 hex digits of the
// SHA-256 of its url).
std::string SubscriberKey(const std::string& url);

// The wait before attempt `attempts + 1` after `attempts` failed ones:
// initial * 2^(attempts - 1), at most `max`, scaled by `jitter` (0.8..1.2
// spreads instances and subscribers; 1.0 in tests).
std::chrono::milliseconds RetryDelay(uint32_t attempts, std::chrono::milliseconds initial,
                                     std::chrono::milliseconds max, double jitter);

// The url with its path and query hidden ("https://hooks.example.com/…"):
// webhook paths often carry a secret, and viewers read GET /v1/notify.
std::string RedactedUrl(const std::string& url);

}  // namespace tidegate::notify
