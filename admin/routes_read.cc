// GET /v1/state, GET /v1/audit, GET /metrics.
#include <charconv>

#include "admin/admin_api.h"
#include "admin/effective_state_json.h"
#include "common/query_string.h"
#include "state/effective_view.h"

namespace tidegate::admin {

ApiResponse AdminApi::GetState() {
  auto config = deps_.config();
  MetricsSnapshot metrics = deps_.metrics ? deps_.metrics->Collect() : MetricsSnapshot{};
  nlohmann::json j =
      EffectiveStateJson(*config, *deps_.store->Current(), metrics, deps_.store->Health(), Now());
  ApiResponse r;
  r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

void AdminApi::GetAudit(const ApiRequest& request, std::function<void(ApiResponse)> reply) {
  size_t limit = 100;
  if (auto text = common::QueryParam(request.query, "limit")) {
    size_t value = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc() || end != text->data() + text->size() || value < 1 ||
        value > options_.max_audit_limit) {
      return reply(Error(
          422, "validation_failed",
          "limit: must be an integer between 1 and " + std::to_string(options_.max_audit_limit)));
    }
    limit = value;
  }
  // This instance's own log: the whole record with a local store, the
  // fallback (said so) when the shared trail cannot be read.
  auto local = [this, limit](std::string warning) {
    std::vector<nlohmann::json> records;
    std::string error;
    if (deps_.audit == nullptr || !deps_.audit->ReadLast(limit, &records, &error)) {
      Warn("admin.audit", error);
      return Error(500, "audit_unreadable", error.empty() ? "no audit log configured" : error);
    }
    nlohmann::json body = {{"source", "local"}, {"records", std::move(records)}};
    if (!warning.empty()) body["warning"] = std::move(warning);
    ApiResponse r;
    r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return r;
  };
  bool shared = deps_.store->ReadSharedAudit(
      limit,
      [this, local, reply, limit](bool ok, std::vector<nlohmann::json> records, std::string error) {
        if (!ok) {
          Warn("admin.audit", error);
          return reply(local(error + "; this instance's own changes only"));
        }
        nlohmann::json body = {{"source", "shared"}};
        // A shared stream younger than this instance's own records lost its
        // history (Redis restarted empty, FLUSHALL, a failover): said so,
        // the records themselves are still in the instance's audit log.
        size_t older = records.size() < limit ? OwnRecordsOlderThan(records, limit) : 0;
        if (older > 0) {
          body["local_records_older"] = older;
          body["warning"] =
              "the shared audit stream holds no record before " +
              (records.empty() ? std::string("now")
                               : records.front().value("time", std::string("?"))) +
              " (Redis lost its history: restarted empty, flushed or failed over?); this "
              "instance's audit log holds " +
              std::to_string(older) + " older change(s) (read its audit log file)";
        }
        body["records"] = std::move(records);
        ApiResponse r;
        r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        reply(std::move(r));
      });
  if (!shared) reply(local(""));
}

size_t AdminApi::OwnRecordsOlderThan(const std::vector<nlohmann::json>& shared, size_t limit) {
  std::vector<nlohmann::json> own;
  std::string error;
  if (deps_.audit == nullptr || !deps_.audit->ReadLast(limit, &own, &error)) return 0;
  // Both logs write RFC 3339 UTC times with milliseconds: text order is time
  // order.
  std::string oldest = shared.empty() ? "\x7f" : shared.front().value("time", std::string());
  size_t older = 0;
  for (const nlohmann::json& record : own) {
    if (record.is_object() && record.value("time", std::string("\x7f")) < oldest) ++older;
  }
  return older;
}

ApiResponse AdminApi::GetMetrics() {
  MetricsSnapshot snapshot = deps_.metrics ? deps_.metrics->Collect() : MetricsSnapshot{};
  snapshot.admin = metrics_;
  StoreHealth health = deps_.store->Health();
  // The local store has no latency worth measuring; a shared store reports
  // its errors through Health() as well as through the core's snapshot.
  snapshot.store_errors_total = std::max(snapshot.store_errors_total, health.errors_total);
  snapshot.store_latency = std::move(health.latency);
  ApiResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = RenderPrometheus(snapshot);
  return r;
}

}  // namespace tidegate::admin
