// What the demo shop's request handlers share: the loop, the catalog,
// pending (delayed/streamed) responses, prebuilt pages and the order counter.
//
// Thread: owned by ShopServer and used only on its event-loop thread.
#ifndef TIDEGATE_DEMO_SHOP_CONTEXT_H_
#define TIDEGATE_DEMO_SHOP_CONTEXT_H_

#include <event2/event.h>

#include <cstdint>
#include <string>

#include "demo/catalog.h"
#include "demo/pending_responses.h"

namespace tidegate::demo {

struct ShopContext {
  event_base* base = nullptr;
  const Catalog* catalog = nullptr;
  PendingResponses* pending = nullptr;
  uint64_t next_order_number = 100001;
  uint64_t requests_served = 0;

  // Built once at start-up: pages whose bytes never change.
  std::string sale_page;       // identity
  std::string sale_page_gzip;  // the same page, gzip-encoded
  std::string bench_1k_page;
  std::string bench_24k_page;
  std::string stylesheet;
};

}  // namespace tidegate::demo

#endif  // TIDEGATE_DEMO_SHOP_CONTEXT_H_
