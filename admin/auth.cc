#include "admin/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>

#include "common/ascii.h"
#include "common/hex.h"
#include "common/query_string.h"

namespace tidegate::admin {
namespace {

bool Sha256(std::string_view data, std::array<unsigned char, 32>* out) {
  unsigned int len = 0;
  return EVP_Digest(data.data(), data.size(), out->data(), &len, EVP_sha256(), nullptr) == 1 &&
         len == 32;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && common::EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  std::array<unsigned char, 32> digest{};
  if (!Sha256(data, &digest)) return "";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

TokenAuthenticator::TokenAuthenticator(const std::vector<config::AdminToken>& tokens) {
  for (const auto& t : tokens) {
    if (t.token_sha256.size() != 64) continue;
    Entry e{t.name, {}, t.role};
    bool ok = true;
    for (size_t i = 0; i < 32; ++i) {
      int hi = common::HexDigitValue(t.token_sha256[2 * i]),
          lo = common::HexDigitValue(t.token_sha256[2 * i + 1]);
      if (hi < 0 || lo < 0) {
        ok = false;
        break;
      }
      e.digest[i] = static_cast<unsigned char>(hi << 4 | lo);
    }
    if (ok) tokens_.push_back(std::move(e));
  }
}

AuthResult TokenAuthenticator::Check(std::optional<std::string_view> authorization) const {
  AuthResult result;
  if (!authorization) return result;  // kMissing
  std::string_view value = *authorization;
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  result.status = AuthStatus::kMalformed;
  if (!StartsWithIgnoreCase(value, "bearer ")) return result;
  std::string_view token = value.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  if (token.empty() || token.size() > 4096) return result;
  for (char c : token) {
    if (c <= 0x20 || c >= 0x7f) return result;
  }
  std::array<unsigned char, 32> digest{};
  if (!Sha256(token, &digest)) return result;

  // Compare against every configured digest; never stop at a match, so the
  // time taken does not reveal which entry matched.
  const Entry* match = nullptr;
  last_comparisons_ = 0;
  for (const Entry& e : tokens_) {
    ++last_comparisons_;
    bool equal = CRYPTO_memcmp(digest.data(), e.digest.data(), digest.size()) == 0;
    if (equal && match == nullptr) match = &e;
  }
  if (match == nullptr) {
    result.status = AuthStatus::kRefused;
    return result;
  }
  result.status = AuthStatus::kOk;
  result.token_name = match->name;
  result.role = match->role;
  return result;
}

bool QueryCarriesCredentials(std::string_view query) {
  static constexpr std::string_view kNames[] = {
      "token",         "access_token", "bearer", "api_key",  "apikey",       "auth",
      "authorization", "password",     "secret", "id_token", "refresh_token"};
  std::string name;
  std::string value;
  return common::ForEachQueryParam(
      query,
      [&](std::string_view raw_name, std::string_view raw_value) {
        // Decoded as a framework reads them: "%74oken=…" is "token" (and PHP
        // drops a name's leading spaces).
        common::FormDecode(raw_name, &name);
        common::FormDecode(raw_value, &value);
        std::string_view n = name;
        while (!n.empty() && n.front() == ' ') n.remove_prefix(1);
        for (std::string_view credential : kNames) {
          if (common::EqualsIgnoreCase(n, credential)) return true;
        }
        return StartsWithIgnoreCase(value, "bearer ");
      },
      "&;");
}

FailureThrottle::FailureThrottle(Policy policy, const common::TimeSource& time)
    : policy_(policy), time_(&time) {}

std::optional<int64_t> FailureThrottle::RetryAfter(const std::string& client) const {
  auto it = clients_.find(client);
  if (it == clients_.end()) return std::nullopt;
  auto now = time_->MonotonicNow();
  if (now >= it->second.blocked_until) return std::nullopt;
  auto left = std::chrono::ceil<std::chrono::seconds>(it->second.blocked_until - now).count();
  return std::max<int64_t>(1, left);
}

void FailureThrottle::RecordFailure(const std::string& client) {
  auto now = time_->MonotonicNow();
  auto it = clients_.find(client);
  if (it == clients_.end()) {
    if (clients_.size() >= policy_.max_clients) Prune(now);
    it = clients_.emplace(client, ClientState{now, 0, {}, {}}).first;
  }
  ClientState& s = it->second;
  if (now - s.window_start > policy_.window && now >= s.blocked_until) {
    // A fresh window: the client behaved for a while.
    s.window_start = now;
    s.failures = 0;
    s.delay = std::chrono::seconds(0);
  }
  ++s.failures;
  if (s.failures >= policy_.max_failures) {
    s.delay = s.delay.count() == 0 ? policy_.base_delay : std::min(s.delay * 2, policy_.max_delay);
    s.blocked_until = now + s.delay;
    s.window_start = now;  // keep the client inside the window while it keeps failing
  }
}

void FailureThrottle::RecordSuccess(const std::string& client) { clients_.erase(client); }

void FailureThrottle::Prune(std::chrono::steady_clock::time_point now) {
  for (auto it = clients_.begin(); it != clients_.end();) {
    if (now - it->second.window_start > policy_.window && now >= it->second.blocked_until) {
      it = clients_.erase(it);
    } else {
      ++it;
    }
  }
  // Still full (an attack from many addresses): drop the oldest windows.
  while (clients_.size() >= policy_.max_clients) {
    auto oldest = std::min_element(
        clients_.begin(), clients_.end(),
        [](const auto& a, const auto& b) { return a.second.window_start < b.second.window_start; });
    clients_.erase(oldest);
  }
}

}  // namespace tidegate::admin
