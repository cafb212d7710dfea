// Authentication of admin requests: bearer tokens checked against the
// SHA-256 digests of [admin].tokens, query-string credential refusal, and a
// non-blocking throttle for clients that keep failing.
//
// Contract:
// * TokenAuthenticator is immutable after construction (thread-safe const
//   methods). It hashes the presented token with SHA-256 (OpenSSL EVP) and
//   compares the digest with EVERY configured digest using CRYPTO_memcmp, so
//   the time taken does not depend on which token (if any) matches.
// * FailureThrottle is not thread-safe: control thread only. It never sleeps:
//   it answers "refuse for N more seconds" and the caller replies 429.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time_source.h"
#include "config/config.h"

namespace tidegate::admin {

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

enum class AuthStatus {
  kOk,
  kMissing,    // no Authorization header
  kMalformed,  // not "Bearer <token>"
  kRefused,    // no configured token matches
};

struct AuthResult {
  AuthStatus status = AuthStatus::kMissing;
  std::string token_name;  // set when kOk
  config::AdminRole role = config::AdminRole::kViewer;
};

class TokenAuthenticator {
 public:
  // Digests that are not 64 hex characters are ignored (the config loader
  // refuses them anyway).
  explicit TokenAuthenticator(const std::vector<config::AdminToken>& tokens);

  // `authorization` is the Authorization header value, or nullopt when absent.
  // The scheme "Bearer" is case-insensitive; the token is 1..4096 bytes of
  // visible ASCII.
  AuthResult Check(std::optional<std::string_view> authorization) const;

  size_t token_count() const { return tokens_.size(); }
  // Number of constant-time digest comparisons made by the last Check() that
  // reached the comparison step (tests: all tokens are compared, always).
  size_t last_comparisons() const { return last_comparisons_; }

 private:
  struct Entry {
    std::string name;
    std::array<unsigned char, 32> digest;
    config::AdminRole role;
  };
  std::vector<Entry> tokens_;
  mutable size_t last_comparisons_ = 0;
};

// True when the query string carries what looks like a credential: a
// parameter named token, access_token, bearer, api_key, apikey, auth,
// authorization, password, secret, id_token or refresh_token
// (case-insensitive), or any value that starts with "Bearer " — names and
// values read as a framework decodes them (%XX, '+' a space, leading
// spaces dropped: "%74oken=" is "token"). Such requests are refused without
// looking at the token (it is already in someone's logs).
bool QueryCarriesCredentials(std::string_view query);

// Slows down clients that keep failing authentication.
// Policy: a client (IP address) that fails `max_failures` times within
// `window` is refused for `base_delay`; each further failure while it is
// still within the window doubles the delay, up to `max_delay`.
// RecordSuccess forgets the client. At most `max_clients` are tracked (the
// oldest entries are dropped first).
// Only failures are throttled: AdminApi authenticates every request first and
// lets a valid token through even while its address is refused (it then does
// not call RecordSuccess, so bad tokens from that address keep getting 429).
class FailureThrottle {
 public:
  struct Policy {
    int max_failures = 5;
    std::chrono::seconds window{60};
    std::chrono::seconds base_delay{1};
    std::chrono::seconds max_delay{300};
    size_t max_clients = 10000;
  };

  // Windows and delays run on time.MonotonicNow(); `time` must outlive the
  // throttle (tests pass a common::FakeTimeSource).
  explicit FailureThrottle(Policy policy, const common::TimeSource& time = common::SystemTime());

  // When `client` is currently refused: the seconds to put in Retry-After
  // (at least 1). Otherwise nullopt.
  std::optional<int64_t> RetryAfter(const std::string& client) const;
  void RecordFailure(const std::string& client);
  void RecordSuccess(const std::string& client);

 private:
  struct ClientState {
    std::chrono::steady_clock::time_point window_start;
    int failures = 0;
    std::chrono::seconds delay{0};
    std::chrono::steady_clock::time_point blocked_until;
  };
  void Prune(std::chrono::steady_clock::time_point now);

  Policy policy_;
  const common::TimeSource* time_;
  std::map<std::string, ClientState> clients_;
};

}  // namespace tidegate::admin
