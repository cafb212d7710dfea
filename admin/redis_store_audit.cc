// RedisStore's shared audit stream (`<prefix>:audit`): reading it for
// GET /v1/audit and appending entries that are not state changes (bypass
// mints). The class and its contract: admin/redis_store.h.
#include <nlohmann/json.hpp>

#include "admin/redis_store.h"

namespace tidegate::admin {
namespace {

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

bool RedisStore::ReadSharedAudit(size_t limit, AuditCallback done) {
  if (!commands_ || !commands_->connected()) {
    done(false, {},
         "shared audit unavailable: " +
             (last_error_.empty() ? std::string("not connected to Redis") : last_error_));
    return true;
  }
  commands_->Command(
      {"XREVRANGE", audit_key_, "+", "-", "COUNT", std::to_string(limit)},
      [this, done = std::move(done)](redis::RedisResult result) {
        Record(result);
        if (!result.ok) return done(false, {}, "shared audit unavailable: " + result.error);
        if (result.reply.type != redis::RedisReply::Type::kArray) {
          return done(false, {}, "shared audit unavailable: unexpected reply to XREVRANGE");
        }
        // Newest first from Redis; the API lists oldest first, like the
        // local log. An entry that is not JSON is skipped, never served.
        std::vector<nlohmann::json> records;
        const auto& entries = result.reply.elements;
        for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
          if (it->elements.size() != 2) continue;
          const auto& fields = it->elements[1].elements;
          for (size_t i = 0; i + 1 < fields.size(); i += 2) {
            if (fields[i].str != "entry") continue;
            nlohmann::json j = nlohmann::json::parse(fields[i + 1].str, nullptr, false);
            if (j.is_object()) records.push_back(std::move(j));
          }
        }
        done(true, std::move(records), "");
      });
  return true;
}

void RedisStore::AppendSharedAudit(const nlohmann::json& entry) {
  if (!commands_ || !commands_->connected()) return;  // the local log has it
  commands_->Command({"XADD", audit_key_, "MAXLEN", "~", std::to_string(options_.audit_max_entries),
                      "*", "entry", Dump(entry)},
                     [this](redis::RedisResult result) { RecordWrite(result); });
}

}  // namespace tidegate::admin
