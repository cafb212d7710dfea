// The validated, immutable configuration of one tidegate process.
//
// Contract: a Config is produced only by LoadConfig() (config/loader.h), which
// checks every key of ../shared/spec/interface.md and our documented additions
// (docs/configuration.md). Once built it is never mutated; the control thread
// publishes it to workers as std::shared_ptr<const Config> and swaps it on
// SIGHUP. Every duration is already converted, every address parsed, every
// regular expression compiled-checked, every secret file read.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/cidr.h"

namespace tidegate::config {

using Duration = std::chrono::milliseconds;

// "127.0.0.1:8080", "[::1]:8080", or "unix:/path" (admin and redis only).
struct Address {
  std::string
      host;  // IP literal, or a host name where allowed ([upstream].servers); empty for unix
  uint16_t port = 0;
  std::string unix_path;  // set for "unix:/path"
  std::string text;       // as written, for logs and errors
};

struct TlsCertificate {
  std::string cert_file;  // PEM chain, path resolved against the config file's folder
  std::string key_file;   // PEM private key
};

struct TlsConfig {
  std::vector<Address> listen;
  std::vector<TlsCertificate> certificates;  // first one is the default (no SNI match)
};

struct ServerConfig {
  std::vector<Address> listen;  // plain HTTP listeners
  int workers = 0;              // 0 = one per core
  std::optional<TlsConfig> tls;

  // Limits (documented additions).
  uint32_t max_connections = 10000;     // accepted client connections, whole process
  uint32_t max_request_line = 8192;     // bytes; longer → 414
  uint32_t max_header_bytes = 32768;    // all header lines; larger → 431
  uint32_t max_headers = 100;           // header count; more → 431
  uint64_t max_body_bytes = 16u << 20;  // request body; larger → 413
  // Deadlines.
  Duration header_timeout{10'000};     // absolute: first byte → end of request headers
  Duration body_timeout{60'000};       // end of headers → end of request body, plus:
  uint64_t body_min_rate = 8192;       // bytes/s: each this many body bytes add 1 s; 0 = absolute
  Duration keepalive_timeout{75'000};  // idle between requests on a client connection
  Duration send_timeout{60'000};       // no write progress to the client for this long → close
  Duration drain_timeout{30'000};      // SIGTERM: in-flight requests get this long
  // Logging.
  std::string access_log;          // path of JSON-lines access log; "" = off, "-" = stdout
  std::string error_log = "-";     // "-" = stderr
  std::string log_level = "info";  // "debug" | "info" | "warn" | "error"
  // Request fields a trusted front (TLS terminator, load balancer) adds: a
  // client's `Connection:` cannot remove them, like X-Forwarded-* (issue
  // 14). Lower-case field names; empty by default.
  std::vector<std::string> trusted_headers;
  // Fronts (CDN, load balancer) whose report of the client is believed
  // (proxy/client_address.h): for a connection from one of these networks,
  // the client's address is read from `client_ip_header` (lower-case; the
  // nearest untrusted address, walked from the right) and its scheme from
  // X-Forwarded-Proto. Empty (the default): the connection's peer is the
  // client and its scheme the connection's.
  std::vector<common::CidrBlock> trusted_proxies;
  std::string client_ip_header = "x-forwarded-for";
};

// [upstream.health]: active health checks, off while `path` is empty.
struct UpstreamHealthConfig {
  std::string path;          // "GET path" to every server; 2xx/3xx = pass
  Duration interval{5'000};  // between two checks of one server
  Duration timeout{2'000};   // connect + answer head
  uint32_t rise = 2;         // passes in a row that bring a failed server back
  uint32_t fall = 3;         // failures in a row that take a server out
};

struct UpstreamConfig {
  std::vector<Address> servers;  // the shop; round-robin
  // "file:line:col upstream.servers[i]" of each server, for errors found
  // after loading (a host name that does not resolve).
  std::vector<std::string> server_where;
  Duration connect_timeout{3'000};    // → 504 when it fires
  Duration response_timeout{30'000};  // request sent → response headers complete; → 504
  Duration read_timeout{60'000};      // no byte from the origin for this long mid-body → close
  // Idle pool per worker and server: up to the peak of connections in use in
  // the last 10-20 s (proxy/upstream_demand.h), at most keepalive_max, and
  // always `keepalive` (0 = no pooling at all).
  uint32_t keepalive = 32;
  uint32_t keepalive_max = 1024;
  Duration keepalive_timeout{60'000};  // an idle pooled connection older than this is closed
  // A pooled connection is closed after this many exchanges or this long
  // after it was opened (as nginx's keepalive_requests / keepalive_time):
  // a connection an origin desynchronised (late extra bytes read as the
  // next response) cannot stay wrong for ever.
  uint32_t keepalive_requests = 1000;
  Duration keepalive_time{3'600'000};
  uint32_t max_fails = 3;             // consecutive failures before a server is ejected
  Duration fail_timeout{10'000};      // ejection period, then the server is tried again
  Duration resolve_interval{30'000};  // host names in `servers` are re-resolved this often
  UpstreamHealthConfig health;        // [upstream.health]: active checks
};

enum class StateBackend { kLocal, kRedis };
enum class StoreFailureMode { kLocal, kOpen, kClosed };
// "local" | "open" | "closed", as written in [state].on_failure.
constexpr std::string_view StoreFailureModeName(StoreFailureMode mode) {
  return mode == StoreFailureMode::kLocal  ? "local"
         : mode == StoreFailureMode::kOpen ? "open"
                                           : "closed";
}

// [state].on_corrupt: what a start does with a state file it cannot read.
enum class CorruptStateMode { kContinue, kRefuse };

struct StateConfig {
  StateBackend backend = StateBackend::kLocal;
  // backend = "local": the folder the operators' switches and the rooms'
  // counters are persisted to (docs/state.md). Relative paths are resolved
  // against the folder of the file naming it; "" (key absent) = "state" in
  // the folder of the first configuration file read. Needs a restart.
  std::string path;
  CorruptStateMode on_corrupt = CorruptStateMode::kContinue;
  std::optional<Address> redis;  // required when backend = redis
  StoreFailureMode on_failure = StoreFailureMode::kLocal;
  Duration redis_timeout{250};      // per command
  Duration resync_interval{1'000};  // full state re-read, heals lost pub/sub messages
  // Redis Sentinel (docs/state.md): when `sentinels` is set, the primary of
  // `master_name` is found through them instead of `redis`.
  std::vector<Address> sentinels;  // IP literal + port
  std::string master_name;         // required with sentinels
  std::string sentinel_password;   // from sentinel_password_file; "" = no AUTH
  // sentinel_password_file, resolved ("" = none): re-read when it changes,
  // as redis_password_path.
  std::string sentinel_password_path;
  // The Redis server's own password (requirepass, or the ACL user's), sent
  // with AUTH on every connection to it; with sentinels, to the primary.
  std::string redis_password;  // from redis_password_file; "" = no AUTH
  // redis_password_file, resolved ("" = none): re-read when it changes
  // (redis/auth.h, RefreshPassword), so a rotation needs no restart.
  std::string redis_password_path;
  std::string redis_username;  // Redis 6+ ACL user; "" = AUTH <password> only
  int wait_replicas = 0;       // WAIT after operator changes; default 1 with sentinels
  Duration wait_timeout{500};
};

enum class AdminRole { kViewer, kOperator };

struct AdminToken {
  std::string name;
  std::string token_sha256;  // 64 lowercase hex characters
  AdminRole role = AdminRole::kViewer;
};

struct AdminConfig {
  Address listen{"127.0.0.1", 9901, "", "127.0.0.1:9901"};  // may be "unix:/path"
  std::vector<AdminToken> tokens;
  // JSON-lines audit log of applied admin changes; relative paths resolved
  // against the folder of the file naming it. "" (key absent) = "audit.log"
  // in the folder of the first configuration file read (see
  // admin::DefaultAuditLogPath). Changing it needs a restart.
  std::string audit_log;
  // GET /metrics from a loopback client without a token. Needs a restart.
  bool metrics_open_on_loopback = true;
  // [admin.tls]: when present the admin listener speaks HTTPS only, with this
  // certificate chain and key (paths resolved, files checked readable at load;
  // loaded and matched by the TLS layer at start-up and on every reload).
  // Only for an IP `listen` address (never a unix socket). Adding or removing
  // it needs a restart; new files under the same section apply on SIGHUP.
  std::optional<TlsCertificate> tls;
  // [admin].allow_plaintext: LoadConfig refuses a non-loopback IP `listen`
  // (anything but 127.0.0.0/8 and ::1) without [admin.tls], because bearer
  // tokens would cross the network in clear, unless this is true (e.g. TLS
  // is terminated by a sidecar on the same host). Unix sockets and loopback
  // addresses never need it.
  bool allow_plaintext = false;
  // [admin].allowed_hosts: extra names a request's Host may carry (lower
  // case, no port), besides IP literals, localhost and the listen host;
  // other Hosts get 421 (DNS rebinding, admin/host_check.h). Applies on
  // SIGHUP.
  std::vector<std::string> allowed_hosts;
};

struct TokenKey {
  std::string id;
  std::string secret_file;
  std::string secret;  // the file's bytes (trailing newline stripped); at least 32 bytes
};

struct SecretsConfig {
  std::vector<TokenKey> token_keys;  // first signs, all verify
};

// An IPv4 or IPv6 network (common/cidr.h parses and matches it).
using CidrBlock = common::CidrBlock;

enum class QueueingMethod { kFifo, kRandom, kPassthrough, kReject };
enum class RoomMode { kOff, kAuto, kQueueAll };
// What a newcomer must do before getting a place (docs/waiting-room.md,
// "Threat model"): nothing, or solve a proof-of-work challenge.
enum class JoinChallengeKind { kNone, kPow };

// A scheduled event of a room ([[rooms.NAME.events]], docs/waiting-room.md
// "Scheduled events"): from `prequeue_start` every visitor is queued and
// nobody is admitted; at `start` the pre-queue is drawn at random and the
// event's limits apply until `end`. Unset limits: the room's.
struct RoomEventConfig {
  std::string name;
  std::chrono::system_clock::time_point prequeue_start;  // <= start
  std::chrono::system_clock::time_point start;           // < end
  std::chrono::system_clock::time_point end;
  std::optional<uint32_t> total_active_users;
  std::optional<uint32_t> new_users_per_minute;
  std::optional<Duration> session_duration;
  std::optional<QueueingMethod> queueing_method;
  std::optional<RoomMode> mode;  // auto | queue_all (off is refused)
};

struct RoomConfig {
  std::string name;
  std::vector<std::string> match;  // RE2 patterns on the normalized path (checked to compile)
  uint32_t total_active_users = 500;
  uint32_t new_users_per_minute = 200;
  Duration session_duration{300'000};
  QueueingMethod queueing_method = QueueingMethod::kFifo;
  RoomMode mode = RoomMode::kAuto;
  bool enabled = true;
  bool enforced = true;     // false = shadow mode: count who would be queued, queue nobody
  int queued_status = 200;  // 200 | 202 | 429 | 503 (429/503 carry Retry-After)
  // How often the queue page polls /.tidegate/queue (also its Retry-After).
  Duration refresh_interval{5'000};
  // How long an invited visitor may take to come in (docs/waiting-room.md,
  // "The invitation window"); applied as at least 3 x refresh_interval.
  Duration invitation_window{180'000};
  // Visitors who never queue (documented additions). A request bypasses the
  // room when ANY of these matches.
  std::vector<CidrBlock> bypass_ips;      // client address in one of these networks
  std::vector<std::string> bypass_paths;  // RE2 on the normalized path (static assets)
  std::string bypass_header;              // header name whose value is bypass_secret
  std::string bypass_cookie;              // cookie name whose value is bypass_secret
  std::string bypass_secret_file;         // resolved path
  std::string bypass_secret;              // its bytes (trailing newline stripped), >= 16 bytes
  // Scheduled events, sorted by start, not overlapping (checked by the loader).
  std::vector<RoomEventConfig> events;
  // Abuse resistance (docs/waiting-room.md, "Threat model").
  JoinChallengeKind join_challenge = JoinChallengeKind::kNone;
  uint32_t join_challenge_bits = 18;  // leading zero bits of SHA-256 (4..28)
  // Joins (tickets or direct admissions) per client address (IPv6: per /64)
  // per minute; 0 = no cap.
  uint32_t max_tickets_per_ip_per_minute = 60;
  // [rooms.NAME.protect]: admission that follows the origin's health
  // (docs/waiting-room.md, "Auto-protection"). With it on, the limits above
  // are ceilings and a controller sets the effective ones.
  struct Protect {
    bool enabled = false;
    Duration target_latency{500};           // p90 of origin time to response headers
    double max_error_rate = 0.02;           // share of origin 5xx, connect failures, timeouts
    uint32_t min_new_users_per_minute = 1;  // floor of the effective rate
    // RE2 on the normalised path, case-insensitive: requests whose answers
    // are slow on purpose (long-polls, report exports) — gated as any, not
    // measured.
    std::vector<std::string> exclude_paths;
  } protect;
};

// One match rule of a feature; every set field must match (AND); the rules of
// a feature are alternatives (OR).
struct FeatureMatchRule {
  std::string path;                           // RE2 on the normalized path; "" = any
  std::vector<std::string> methods;           // upper-case; empty = any
  std::string host;                           // exact, case-insensitive; "" = any
  std::map<std::string, std::string> query;   // parameter = value
  std::map<std::string, std::string> header;  // header name (lower-case) = value
  std::map<std::string, std::string> cookie;  // cookie name = value
  std::map<std::string, std::string> form;    // urlencoded body field = value
  std::map<std::string, std::string> json;    // dotted JSON path = value
};

// A maintenance window written in the configuration ([features.NAME.maintenance]):
// the feature is under maintenance from `starts_at` (now when absent) until
// `until` (until the table is removed and the configuration reloaded when
// absent). A window whose `until` has passed simply no longer applies.
struct ConfigMaintenanceWindow {
  std::string message;  // shown to shoppers; "" = the page's default text
  std::optional<std::chrono::system_clock::time_point> starts_at;
  std::optional<std::chrono::system_clock::time_point> until;
};

// What a feature under maintenance does (docs/maintenance.md).
enum class FeatureAction {
  kMaintenance,  // its requests get the maintenance page (503)
  kHide,         // nothing is refused; `hide_selector` is hidden in HTML pages
};

// What the gate does with a request of the feature's path and method whose
// form/json fields it cannot decide (body not readable, or cut at
// [maintenance].max_body_bytes before the fields were found).
enum class UndecidedPolicy { kBlock, kPass };

struct FeatureConfig {
  std::string name;
  std::vector<FeatureMatchRule> match;
  bool enabled = true;
  bool enforced = true;  // false = shadow mode: count who would be refused, refuse nobody
  std::optional<ConfigMaintenanceWindow> maintenance;  // scheduled from the configuration
  FeatureAction action = FeatureAction::kMaintenance;
  std::string hide_selector;  // action = "hide": a CSS selector list (checked at load)
  UndecidedPolicy on_undecided = UndecidedPolicy::kBlock;
};

// How bannered pages meet compression (docs/banner.md, "Compression"):
// kCompress asks the origin for identity and gzips towards clients that
// accept gzip (an origin that compresses anyway is recoded); kRecode
// decodes, inserts and re-encodes what the origin compressed; kIdentity
// asks the origin for identity and sends identity.
enum class BannerCompressed { kCompress, kRecode, kIdentity };

struct BannerConfig {
  bool enabled = false;
  std::string message;
  std::string severity = "info";  // "info" | "warning" | "critical"
  // RE2 patterns on the normalized path (checked to compile); empty = every path.
  std::vector<std::string> match;
  // Media types (lower-case, no parameters) that receive the banner.
  std::vector<std::string> content_types = {"text/html"};
  uint64_t window_bytes = 64 * 1024;  // how far into the body `<body` is looked for
  BannerCompressed compressed = BannerCompressed::kCompress;
  int recode_level = 1;  // zlib level of the re-encoded body, 1 (fast) … 9 (small)
};

// [site]: how tidegate's own pages (maintenance, queue, banner, error pages)
// present the shop to shoppers.
struct SiteConfig {
  std::string name;                     // shop name shown on pages; "" = none
  std::string status_page_url;          // link on pages; "" = no link
  std::string time_zone = "UTC";        // IANA name (checked in /usr/share/zoneinfo)
  std::string default_language = "en";  // "en" | "fr": when Accept-Language names neither
  std::string templates_dir;            // merchant overrides of page templates; "" = built-in
  // Resolved incidents stay on the status page (and in the state) this long.
  uint32_t status_history_days = 30;
};

// [maintenance]: settings shared by every feature's maintenance gate (the
// features themselves are [features.NAME]).
struct MaintenanceConfig {
  // Requests whose normalised path starts with one of these get the JSON
  // answer (as do requests with Accept: application/json).
  std::vector<std::string> api_prefixes;
  // Staff addresses that are never stopped by maintenance.
  std::vector<CidrBlock> bypass_cidrs;
  // Longest lifetime an operator may ask for a bypass cookie (POST /v1/bypass).
  Duration bypass_cookie_max_ttl{24 * 3'600'000};
  // How much of a request body form/json rules may read (decided on the prefix).
  size_t max_body_bytes = 64 * 1024;
  // Match paths with %2F / %2f / '\' read as '/' (the origin still gets the
  // target as sent): many origins treat them as separators.
  bool decode_slashes = true;
};

// [[notify.webhooks]]: subscribers told about incidents, maintenance and room
// modes (docs/webhooks.md).
struct WebhookConfig {
  std::string url;          // http:// or https://
  std::string secret_file;  // resolved path
  std::string secret;       // its bytes (trailing newline stripped), >= 16 bytes
  // Event types delivered ("incident.opened", "maintenance.on", …); empty = all.
  std::vector<std::string> events;
};
// Every event type a webhook may subscribe to (WebhookConfig::events).
inline constexpr std::string_view kNotifyEventTypes[] = {
    "incident.opened", "incident.updated", "incident.resolved", "incident.update_overdue",
    "maintenance.on",  "maintenance.off",  "room.mode"};

// [notify]: delivery settings shared by every webhook (docs/webhooks.md).
struct NotifyConfig {
  std::vector<WebhookConfig> webhooks;
  Duration timeout{10'000};            // one POST: connect to end of response
  Duration retry_initial{5'000};       // first retry delay, doubled each attempt
  Duration retry_max{600'000};         // largest delay between attempts
  Duration give_up_after{86'400'000};  // an event older than this is failed (>= 1h)
};

// Where a key was set (1-based line and column), for problems found after
// loading, when what the key names is opened (app/config_checks.h).
struct KeyPosition {
  std::string file;
  int line = 0;
  int column = 0;
};

struct Config {
  SiteConfig site;
  MaintenanceConfig maintenance;
  ServerConfig server;
  UpstreamConfig upstream;
  StateConfig state;
  AdminConfig admin;
  SecretsConfig secrets;
  std::vector<RoomConfig> rooms;        // in name order
  std::vector<FeatureConfig> features;  // in name order
  BannerConfig banner;
  NotifyConfig notify;
  std::vector<std::string> source_files;  // the files read, in merge order
  // The keys naming files and folders opened after loading, by dotted path
  // ("server.access_log", "server.tls.certificates[0].cert", "admin.tls.key",
  // "admin.audit_log", "state.path", "site.templates_dir"); only those set.
  std::map<std::string, KeyPosition> positions;
  // What the loader found odd but not wrong: the configuration loads and
  // runs. One "file:line:col key: warning: message" line each (a room
  // shadowed by an earlier room), or "file: warning: message" (a file of the
  // directory named *.TOML or *.tml, not read). `--check` prints them, start-up and every
  // SIGHUP write them to the error log (key config.warning.N).
  std::vector<std::string> warnings;
};

}  // namespace tidegate::config
