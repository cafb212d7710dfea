// What /metrics exposes, and its rendering in the Prometheus text exposition
// format 0.0.4.
//
// Contract:
// * MetricsSnapshot is a plain value: the per-worker counters of the core
//   summed at scrape time by whoever implements MetricsSource (the lead maps
//   proxy::WorkerStats to it). No per-request locking is implied: workers keep
//   their own counters, the source only reads them.
// * MetricsSource::Collect() is called on the control thread, once per scrape
//   and once per GET /v1/state; it must not block.
// * RenderPrometheus() is pure (thread-safe, no I/O).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tidegate::admin {

// A cumulative histogram. `bucket_counts[i]` counts observations <= upper_bounds[i]
// (NOT cumulative: each bucket on its own; rendering accumulates);
// `bucket_counts` has one more element than `upper_bounds`: the +Inf overflow.
struct HistogramData {
  std::vector<double> upper_bounds;  // strictly increasing, seconds
  std::vector<uint64_t> bucket_counts;
  double sum = 0;
  uint64_t count = 0;
};

// Default latency buckets (seconds), from 1 ms to 30 s.
std::vector<double> DefaultLatencyBuckets();
// An empty histogram on DefaultLatencyBuckets().
HistogramData EmptyLatencyHistogram();
// Counts one observation of `seconds` in `h`.
void Observe(double seconds, HistogramData* h);

// A room's auto-protection ([rooms.NAME.protect], queue/protect_room.h) as
// plain values (admin/ does not include queue/; app/ copies them).
struct RoomProtectMetrics {
  bool enabled = false;
  bool limiting = false;  // the effective limits are below the ceilings
  int64_t target_latency_ms = 0;
  double max_error_rate = 0;
  uint32_t ceiling_total_active_users = 0;  // the limits in force without protection
  uint32_t ceiling_new_users_per_minute = 0;
  uint32_t effective_total_active_users = 0;  // what the room applies now
  uint32_t effective_new_users_per_minute = 0;
  uint32_t samples = 0;  // this instance's origin samples, last 2 s
  double error_rate = 0;
  int64_t p90_ms = 0;
  std::string move;        // the last decision: "start", "hold", "grow", "trim", "cut_latency", …
  int direction = 0;       // +1 opened, -1 closed, 0 kept
  std::string reason;      // why it last moved or held
  int64_t decided_ms = 0;  // the last decision (0 = none yet)
  int64_t moved_ms = 0;    // the last change of direction (0 = never)
  std::string last_change;  // the move at moved_ms
  // Several instances (rooms on Redis): one decides, the others adopt.
  bool shared = false;
  bool leader = false;
  std::string leader_id;
  std::string shared_error;  // the last failed sync ("" = fine)
};

struct RoomMetrics {
  std::string name;
  int64_t queued = 0;
  int64_t active = 0;
  uint64_t admitted_total = 0;
  double estimated_wait_seconds = 0;
  // Refusals of clients gaming the room, by reason (queue/room_abuse.h),
  // every reason listed (zeros included), in the reasons' order.
  std::vector<std::pair<std::string, uint64_t>> abuse;
  RoomProtectMetrics protect;
  // Times the shared store had lost the room's state and this instance
  // restored it (queue/room_store.h restores(), mark_restores()).
  uint64_t counter_restores = 0;
  uint64_t mark_restores = 0;
};

// One origin server as its snapshot's upstream monitor reports it
// (proxy/upstream_monitor.h through proxy::HealthBoard).
struct UpstreamServerMetrics {
  std::string server;    // as configured
  std::string address;   // resolved now
  bool checked = false;  // active health checks configured
  bool healthy = true;
  uint64_t checks_passed = 0;
  uint64_t checks_failed = 0;
  std::string last_check;
  uint64_t resolve_failures = 0;
  std::string resolve_error;
};

struct AdminMetrics {                                // filled by the admin server itself
  std::map<std::string, uint64_t> requests_by_code;  // "200", "401", …
  uint64_t auth_failures_total = 0;
  uint64_t throttled_total = 0;
  uint64_t changes_applied_total = 0;
  uint64_t audit_write_errors_total = 0;
};

// Webhooks and incident promises (notify/notifier.h), rendered when
// `available` (the notifier runs in this process).
struct NotifyMetrics {
  bool available = false;
  std::map<std::string, uint64_t> events_by_type;  // events raised by this instance
  uint64_t delivered_total = 0;
  uint64_t retried_total = 0;
  uint64_t failed_total = 0;
  uint64_t outbox_errors_total = 0;
  int64_t outbox_pending = -1;  // -1: unknown (no outbox yet), not rendered
  uint64_t incident_updates_overdue_total = 0;
  uint64_t incidents_update_overdue = 0;
  uint64_t outbox_restored_total = 0;  // written back to a Redis restarted empty
};

struct MetricsSnapshot {
  // Finished exchanges by status class: [1]=1xx … [5]=5xx, [0]=no status.
  uint64_t responses_by_class[6] = {};
  // Who answered, by proxy::AnswererName ("origin", "proxy", "builtin",
  // "maintenance", "queue", "banner"); /metrics shows every answerer.
  std::map<std::string, uint64_t> answered_by;
  HistogramData request_duration;  // whole exchange, seconds
  HistogramData origin_duration;   // request sent to origin → response head, seconds
  // Origin failures by kind: "connect_refused", "connect_timeout",
  // "response_timeout", "read_timeout", "reset", "bad_response", "closed_early".
  std::map<std::string, uint64_t> origin_errors_by_kind;
  uint64_t origin_retries_total = 0;
  // Upstream pool.
  int64_t pool_idle_connections = 0;
  uint64_t pool_connects_total = 0;
  uint64_t pool_reused_total = 0;
  // Origin servers: addresses, active health (empty before the first report).
  std::vector<UpstreamServerMetrics> upstream_servers;
  // Client connections.
  int64_t connections_active = 0;
  uint64_t connections_accepted_total = 0;
  uint64_t connections_compacted_total = 0;
  uint64_t connections_lingered_total = 0;
  // Client-side failures and closes by kind: "idle_closed", "header_timeout",
  // "body_timeout", "send_timeout", "parse_error", "accept_error".
  std::map<std::string, uint64_t> client_errors_by_kind;
  // Waiting rooms: false until the waiting room exists; rooms are then not
  // rendered (no fake zeros).
  bool room_counters_available = false;
  std::vector<RoomMetrics> rooms;
  // Maintenance gate hits by feature.
  std::map<std::string, uint64_t> maintenance_hits_by_feature;
  // Requests whose body fields the gate could not decide, by feature
  // (whatever on_undecided did with them).
  std::map<std::string, uint64_t> maintenance_undecided_by_feature;
  // Requests a feature in shadow mode (enforced = false) would have stopped,
  // and requests a feature would have stopped that staff let through (a
  // bypass address or cookie), by feature: both reached the origin.
  std::map<std::string, uint64_t> maintenance_shadowed_by_feature;
  std::map<std::string, uint64_t> maintenance_bypassed_by_feature;
  // Banner injector.
  uint64_t banner_injections_total = 0;
  // Identity responses the banner gzipped for clients that accept gzip
  // ([banner] compressed = "compress").
  uint64_t banner_gzipped_total = 0;
  // HTML responses that received the maintenance hiding CSS ([maintenance].hide).
  uint64_t banner_hide_injections_total = 0;
  std::map<std::string, uint64_t> banner_skips_by_reason;  // "not_html", "compressed", …
  // State store.
  uint64_t store_errors_total = 0;
  HistogramData store_latency;
  // Configuration reloads.
  uint64_t config_reloads_total = 0;
  uint64_t config_reload_failures_total = 0;
  // The admin endpoint's own counters.
  AdminMetrics admin;
  NotifyMetrics notify;
};

class MetricsSource {
 public:
  virtual ~MetricsSource() = default;
  virtual MetricsSnapshot Collect() const = 0;
};

// Escapes a label value: backslash, double quote and newline.
std::string EscapeLabelValue(std::string_view value);

// Prometheus text format 0.0.4 ("text/plain; version=0.0.4; charset=utf-8").
// Every metric is prefixed "tidegate_", with # HELP and # TYPE lines.
std::string RenderPrometheus(const MetricsSnapshot& metrics);

}  // namespace tidegate::admin
