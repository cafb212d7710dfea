// ShopServer: the demo shop's evhttp server and router.
//
// Thread: construct, Listen() and destroy on the thread that runs `base`;
// every request is handled on that thread.
// Ownership: borrows `base` (must outlive the server); owns the evhttp
// instance, the catalog and every pending response.
#ifndef TIDEGATE_DEMO_SHOP_SERVER_H_
#define TIDEGATE_DEMO_SHOP_SERVER_H_

#include <event2/event.h>
#include <event2/http.h>

#include <memory>
#include <string>

#include "demo/capacity.h"
#include "demo/catalog.h"
#include "demo/pending_responses.h"
#include "demo/shop_context.h"

namespace tidegate::demo {

class ShopServer {
 public:
  // `capacity.workers` > 0 turns on the capacity model (demo/capacity.h) for
  // every path except /health.
  explicit ShopServer(event_base* base, CapacityOptions capacity = {});
  // Cancels pending responses, then frees the listener and all connections.
  ~ShopServer();
  ShopServer(const ShopServer&) = delete;
  ShopServer& operator=(const ShopServer&) = delete;

  // Binds and listens on host:port (port 0 = any free port). On success
  // returns true and stores the bound port; on failure sets `error`.
  bool Listen(const std::string& host, int port, int* bound_port, std::string* error);

 private:
  static void OnRequest(evhttp_request* req, void* arg);
  void Route(evhttp_request* req);

  event_base* base_;
  Catalog catalog_;
  PendingResponses pending_;
  ShopContext ctx_;
  evhttp* http_;
  std::unique_ptr<CapacityGate> capacity_;  // null when the capacity model is off
};

}  // namespace tidegate::demo

#endif  // TIDEGATE_DEMO_SHOP_SERVER_H_
