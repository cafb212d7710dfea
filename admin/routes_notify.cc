// GET /v1/notify (viewer): the webhook outbox — deliveries pending (with
// their attempts, next attempt and last error) and failed (given up), and
// the subscribers configured (docs/admin-api.md). The JSON is the notifier's
// (notify/notifier.h), handed in through AdminApi::Deps::notify_status so
// that admin/ does not depend on notify/.
#include "admin/admin_api.h"

namespace tidegate::admin {

void AdminApi::GetNotify(std::function<void(ApiResponse)> reply) {
  if (!deps_.notify_status) {
    return reply(Error(404, "not_found", "webhooks are not available in this process"));
  }
  deps_.notify_status([reply = std::move(reply)](nlohmann::json status) {
    ApiResponse r;
    r.body = status.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    reply(std::move(r));
  });
}

}  // namespace tidegate::admin
