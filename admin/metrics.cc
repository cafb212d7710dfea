#include "admin/metrics.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "proxy/answerer.h"

namespace tidegate::admin {
namespace {

std::string FormatDouble(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  // Shorter form when exact.
  char short_buf[64];
  std::snprintf(short_buf, sizeof short_buf, "%g", v);
  return std::strtod(short_buf, nullptr) == v ? short_buf : buf;
}

class Writer {
 public:
  void Header(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP tidegate_";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE tidegate_";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  // labels: "key", "value" pairs.
  void Sample(std::string_view name,
              std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
              const std::string& value) {
    out_ += "tidegate_";
    out_ += name;
    if (labels.size() > 0) {
      out_ += '{';
      bool first = true;
      for (const auto& [k, v] : labels) {
        if (!first) out_ += ',';
        first = false;
        out_ += k;
        out_ += "=\"";
        out_ += EscapeLabelValue(v);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }

  void Sample(std::string_view name,
              std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
              uint64_t value) {
    Sample(name, labels, std::to_string(value));
  }
  void SampleSigned(std::string_view name,
                    std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
                    int64_t value) {
    Sample(name, labels, std::to_string(value));
  }

  void Histogram(std::string_view name, std::string_view help, const HistogramData& h) {
    Header(name, "histogram", help);
    std::string bucket = std::string(name) + "_bucket";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < h.upper_bounds.size(); ++i) {
      if (i < h.bucket_counts.size()) cumulative += h.bucket_counts[i];
      std::string le = FormatDouble(h.upper_bounds[i]);
      Sample(bucket, {{"le", le}}, cumulative);
    }
    // +Inf must equal _count.
    Sample(bucket, {{"le", "+Inf"}}, h.count);
    Sample(std::string(name) + "_sum", {}, FormatDouble(h.sum));
    Sample(std::string(name) + "_count", {}, h.count);
  }

  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

std::vector<double> DefaultLatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

HistogramData EmptyLatencyHistogram() {
  HistogramData h;
  h.upper_bounds = DefaultLatencyBuckets();
  h.bucket_counts.assign(h.upper_bounds.size() + 1, 0);
  return h;
}

void Observe(double seconds, HistogramData* h) {
  size_t i = 0;
  while (i < h->upper_bounds.size() && seconds > h->upper_bounds[i]) ++i;
  ++h->bucket_counts[i];
  h->sum += seconds;
  ++h->count;
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

// The proxy core: responses, latency, origin, pool, client connections.
void RenderProxy(const MetricsSnapshot& m, Writer& w) {
  static constexpr const char* kClasses[] = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};
  w.Header("responses_total", "counter",
           "Finished client exchanges by status class (none = no response head sent).");
  for (int i = 0; i < 6; ++i)
    w.Sample("responses_total", {{"class", kClasses[i]}}, m.responses_by_class[i]);

  w.Header("responses_by_answerer_total", "counter",
           "Finished client exchanges by what answered them.");
  // Every answerer, 0 included (so a rate() works from the first scrape);
  // then any other name a source added.
  auto is_answerer = [](std::string_view who) {
    for (size_t i = 0; i < proxy::kAnswererCount; ++i) {
      if (proxy::AnswererName(static_cast<proxy::Answerer>(i)) == who) return true;
    }
    return false;
  };
  for (size_t i = 0; i < proxy::kAnswererCount; ++i) {
    std::string_view who = proxy::AnswererName(static_cast<proxy::Answerer>(i));
    auto it = m.answered_by.find(std::string(who));
    w.Sample("responses_by_answerer_total", {{"answered_by", who}},
             it == m.answered_by.end() ? 0 : it->second);
  }
  for (const auto& [who, n] : m.answered_by) {
    if (!is_answerer(who)) w.Sample("responses_by_answerer_total", {{"answered_by", who}}, n);
  }

  w.Histogram("request_duration_seconds", "Client exchange duration, first byte to last byte.",
              m.request_duration);
  w.Histogram("origin_duration_seconds",
              "Origin time, request sent to response complete (or failed).", m.origin_duration);

  w.Header("origin_errors_total", "counter", "Origin failures by kind.");
  for (const auto& [kind, n] : m.origin_errors_by_kind)
    w.Sample("origin_errors_total", {{"kind", kind}}, n);
  w.Header("origin_retries_total", "counter",
           "Requests sent again: idempotent ones on a new connection after a stale pooled one, any "
           "after a server that could not be reached (to the next server).");
  w.Sample("origin_retries_total", {}, m.origin_retries_total);

  w.Header("upstream_pool_idle_connections", "gauge",
           "Idle pooled origin connections, all workers.");
  w.SampleSigned("upstream_pool_idle_connections", {}, m.pool_idle_connections);
  w.Header("upstream_pool_connects_total", "counter", "New origin connections opened.");
  w.Sample("upstream_pool_connects_total", {}, m.pool_connects_total);
  w.Header("upstream_pool_reused_total", "counter", "Requests sent on a reused pooled connection.");
  w.Sample("upstream_pool_reused_total", {}, m.pool_reused_total);
  if (!m.upstream_servers.empty()) {
    w.Header("upstream_server_healthy", "gauge",
             "1 while an origin server passes its active health checks (or has none), 0 while "
             "they eject it.");
    for (const auto& u : m.upstream_servers)
      w.Sample("upstream_server_healthy", {{"server", u.server}}, u.healthy ? 1 : 0);
    w.Header("upstream_health_checks_total", "counter", "Active health checks by result.");
    for (const auto& u : m.upstream_servers) {
      if (!u.checked) continue;
      w.Sample("upstream_health_checks_total", {{"server", u.server}, {"result", "pass"}},
               u.checks_passed);
      w.Sample("upstream_health_checks_total", {{"server", u.server}, {"result", "fail"}},
               u.checks_failed);
    }
    w.Header("upstream_resolve_failures_total", "counter",
             "Failed re-resolutions of an origin host name (the last good address is kept).");
    for (const auto& u : m.upstream_servers)
      w.Sample("upstream_resolve_failures_total", {{"server", u.server}}, u.resolve_failures);
  }

  w.Header("connections_active", "gauge", "Open client connections.");
  w.SampleSigned("connections_active", {}, m.connections_active);
  w.Header("connections_accepted_total", "counter", "Client connections accepted.");
  w.Sample("connections_accepted_total", {}, m.connections_accepted_total);
  w.Header("connections_compacted_total", "counter",
           "Idle keep-alive client connections whose buffers and parser were freed.");
  w.Sample("connections_compacted_total", {}, m.connections_compacted_total);
  w.Header("connections_lingered_total", "counter",
           "Client connections that, closing after an answer while the client was still sending, "
           "shut their write side and dropped its bytes before closing (no TCP reset).");
  w.Sample("connections_lingered_total", {}, m.connections_lingered_total);

  w.Header("client_errors_total", "counter", "Client connections closed or refused, by kind.");
  for (const auto& [kind, n] : m.client_errors_by_kind) {
    w.Sample("client_errors_total", {{"kind", kind}}, n);
  }
}

// Auto-protection (docs/waiting-room.md, "Auto-protection"): rooms with
// [rooms.NAME.protect] enabled only.
void RenderRoomProtection(const MetricsSnapshot& m, Writer& w) {
  auto each = [&](std::string_view name, std::string_view help, auto value) {
    w.Header(name, "gauge", help);
    for (const auto& r : m.rooms) {
      if (r.protect.enabled) w.Sample(name, {{"room", r.name}}, value(r.protect));
    }
  };
  each("room_protect_limiting",
       "1 when auto-protection holds a room's limits below the configured ones.",
       [](const RoomProtectMetrics& p) { return std::string(p.limiting ? "1" : "0"); });
  each("room_effective_total_active_users", "Active limit a protected room applies now.",
       [](const RoomProtectMetrics& p) { return std::to_string(p.effective_total_active_users); });
  each(
      "room_effective_new_users_per_minute", "Admission rate a protected room applies now.",
      [](const RoomProtectMetrics& p) { return std::to_string(p.effective_new_users_per_minute); });
  each("room_protect_origin_p90_seconds",
       "p90 origin time to response headers of a room's requests (this instance, last 2 s).",
       [](const RoomProtectMetrics& p) { return FormatDouble(p.p90_ms / 1000.0); });
  each("room_protect_origin_error_ratio",
       "Share of a room's origin exchanges that failed (this instance, last 2 s).",
       [](const RoomProtectMetrics& p) { return FormatDouble(p.error_rate); });
  each("room_protect_direction", "Direction of the controller's last move: 1 open, -1 close, 0.",
       [](const RoomProtectMetrics& p) { return std::to_string(p.direction); });
  each("room_protect_last_change_timestamp_seconds",
       "When the controller last changed direction (Unix time; 0 = never).",
       [](const RoomProtectMetrics& p) { return std::to_string(p.moved_ms / 1000); });
  each("room_protect_leader", "1 when this instance decides for the room (always 1 without Redis).",
       [](const RoomProtectMetrics& p) { return std::string(!p.shared || p.leader ? "1" : "0"); });
}

// The shopper-facing features: rooms, maintenance, banner.
void RenderFeatures(const MetricsSnapshot& m, Writer& w) {
  w.Header("room_counters_available", "gauge",
           "1 when waiting-room counters are reported, 0 before the waiting room exists.");
  w.Sample("room_counters_available", {}, m.room_counters_available ? 1 : 0);
  if (m.room_counters_available) {
    w.Header("room_queued", "gauge", "Visitors waiting in a room's queue.");
    for (const auto& r : m.rooms) w.SampleSigned("room_queued", {{"room", r.name}}, r.queued);
    w.Header("room_active", "gauge", "Active sessions inside a room.");
    for (const auto& r : m.rooms) w.SampleSigned("room_active", {{"room", r.name}}, r.active);
    w.Header("room_admitted_total", "counter", "Visitors admitted from a room's queue.");
    for (const auto& r : m.rooms)
      w.Sample("room_admitted_total", {{"room", r.name}}, r.admitted_total);
    w.Header("room_estimated_wait_seconds", "gauge", "Estimated wait of a new visitor.");
    for (const auto& r : m.rooms) {
      w.Sample("room_estimated_wait_seconds", {{"room", r.name}},
               FormatDouble(r.estimated_wait_seconds));
    }
    w.Header("room_abuse_total", "counter",
             "Requests a room refused as gaming it (a ticket reused, a missing or bad join "
             "answer, too many joins from one network), by reason.");
    for (const auto& r : m.rooms) {
      for (const auto& [reason, n] : r.abuse) {
        w.Sample("room_abuse_total", {{"room", r.name}, {"reason", reason}}, n);
      }
    }
    w.Header("room_store_restores_total", "counter",
             "Times a room's shared store (Redis) had lost its state and this instance put it "
             "back: the counters raised to what it had seen, or the queue order's marks "
             "proposed again.");
    for (const auto& r : m.rooms) {
      w.Sample("room_store_restores_total", {{"room", r.name}, {"what", "counters"}},
               r.counter_restores);
      w.Sample("room_store_restores_total", {{"room", r.name}, {"what", "marks"}}, r.mark_restores);
    }
    RenderRoomProtection(m, w);
  }

  w.Header("maintenance_hits_total", "counter", "Requests answered by the maintenance gate.");
  for (const auto& [f, n] : m.maintenance_hits_by_feature)
    w.Sample("maintenance_hits_total", {{"feature", f}}, n);
  w.Header("maintenance_undecided_total", "counter",
           "Requests of a feature's path and method whose body fields the gate could not decide.");
  for (const auto& [f, n] : m.maintenance_undecided_by_feature)
    w.Sample("maintenance_undecided_total", {{"feature", f}}, n);
  w.Header("maintenance_shadowed_total", "counter",
           "Requests a feature in shadow mode (enforced = false) would have stopped; they "
           "reached the origin.");
  for (const auto& [f, n] : m.maintenance_shadowed_by_feature)
    w.Sample("maintenance_shadowed_total", {{"feature", f}}, n);
  w.Header("maintenance_bypassed_total", "counter",
           "Requests the gate would have stopped, let through by a bypass address or cookie.");
  for (const auto& [f, n] : m.maintenance_bypassed_by_feature)
    w.Sample("maintenance_bypassed_total", {{"feature", f}}, n);

  w.Header("banner_injections_total", "counter", "HTML responses that received the banner.");
  w.Sample("banner_injections_total", {}, m.banner_injections_total);
  w.Header("banner_gzipped_total", "counter",
           "Identity responses the banner gzipped for clients that accept gzip.");
  w.Sample("banner_gzipped_total", {}, m.banner_gzipped_total);
  w.Header("banner_hide_injections_total", "counter",
           "HTML responses that received the maintenance hiding CSS.");
  w.Sample("banner_hide_injections_total", {}, m.banner_hide_injections_total);
  w.Header("banner_skips_total", "counter", "Responses the banner injector skipped, by reason.");
  for (const auto& [reason, n] : m.banner_skips_by_reason)
    w.Sample("banner_skips_total", {{"reason", reason}}, n);
}

// The control plane: state store, reloads, admin API.
void RenderControl(const MetricsSnapshot& m, Writer& w) {
  w.Header("state_store_errors_total", "counter", "Failed state-store operations.");
  w.Sample("state_store_errors_total", {}, m.store_errors_total);
  w.Histogram("state_store_latency_seconds", "State-store operation latency.", m.store_latency);

  w.Header("config_reloads_total", "counter", "Configuration reloads, by result.");
  w.Sample("config_reloads_total", {{"result", "ok"}}, m.config_reloads_total);
  w.Sample("config_reloads_total", {{"result", "failed"}}, m.config_reload_failures_total);

  w.Header("admin_requests_total", "counter", "Admin API requests by status code.");
  for (const auto& [code, n] : m.admin.requests_by_code)
    w.Sample("admin_requests_total", {{"code", code}}, n);
  w.Header("admin_auth_failures_total", "counter",
           "Admin requests refused for a missing or wrong token.");
  w.Sample("admin_auth_failures_total", {}, m.admin.auth_failures_total);
  w.Header("admin_throttled_total", "counter",
           "Admin requests answered 429 after repeated failures.");
  w.Sample("admin_throttled_total", {}, m.admin.throttled_total);
  w.Header("admin_changes_total", "counter", "Run-time changes applied through the admin API.");
  w.Sample("admin_changes_total", {}, m.admin.changes_applied_total);
  w.Header("admin_audit_write_errors_total", "counter", "Audit records that could not be written.");
  w.Sample("admin_audit_write_errors_total", {}, m.admin.audit_write_errors_total);
}

// Webhooks and the incidents' promised updates.
void RenderNotify(const NotifyMetrics& n, Writer& w) {
  if (!n.available) return;
  w.Header("notify_events_total", "counter",
           "Webhook events raised by this instance, by type (one per change or late update).");
  for (const auto& [type, count] : n.events_by_type)
    w.Sample("notify_events_total", {{"type", type}}, count);
  w.Header("notify_deliveries_total", "counter",
           "Webhook delivery attempts by result: delivered (2xx), retried (failed, will be "
           "attempted again), failed (given up).");
  w.Sample("notify_deliveries_total", {{"result", "delivered"}}, n.delivered_total);
  w.Sample("notify_deliveries_total", {{"result", "retried"}}, n.retried_total);
  w.Sample("notify_deliveries_total", {{"result", "failed"}}, n.failed_total);
  w.Header("notify_outbox_errors_total", "counter",
           "Webhook outbox operations that failed (file write, Redis).");
  w.Sample("notify_outbox_errors_total", {}, n.outbox_errors_total);
  if (n.outbox_pending >= 0) {
    w.Header("notify_outbox_pending", "gauge", "Webhook deliveries waiting in the outbox.");
    w.SampleSigned("notify_outbox_pending", {}, n.outbox_pending);
  }
  w.Header("notify_outbox_restored_total", "counter",
           "Pending webhook deliveries this instance wrote back to a Redis outbox that had lost "
           "them (restarted empty, flushed).");
  w.Sample("notify_outbox_restored_total", {}, n.outbox_restored_total);
  w.Header("incident_updates_overdue_total", "counter",
           "Promised incident updates (next_update_at) this instance saw pass with no update.");
  w.Sample("incident_updates_overdue_total", {}, n.incident_updates_overdue_total);
  w.Header("incidents_update_overdue", "gauge", "Open incidents whose promised update is late.");
  w.Sample("incidents_update_overdue", {}, n.incidents_update_overdue);
}

}  // namespace

std::string RenderPrometheus(const MetricsSnapshot& m) {
  Writer w;
  RenderProxy(m, w);
  RenderFeatures(m, w);
  RenderControl(m, w);
  RenderNotify(m.notify, w);
  return w.Take();
}

}  // namespace tidegate::admin
