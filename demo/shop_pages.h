// The shop's browsing pages: home, product pages, the sale page (gzip when
// the client accepts it), the stylesheet and the health check.
//
// Thread: handlers run on the shop's event-loop thread.
// Ownership: each handler completes `req` (evhttp frees it afterwards).
#ifndef TIDEGATE_DEMO_SHOP_PAGES_H_
#define TIDEGATE_DEMO_SHOP_PAGES_H_

#include <event2/http.h>

#include <string>
#include <string_view>

#include "demo/shop_context.h"

namespace tidegate::demo {

// Builders for the prebuilt pages stored in ShopContext.
std::string BuildSalePage(const Catalog& catalog);
std::string BuildStylesheet();

void ServeHome(evhttp_request* req, ShopContext& ctx);
// `id_text` is the path segment after "/products/".
void ServeProduct(evhttp_request* req, ShopContext& ctx, std::string_view id_text);
void ServeSale(evhttp_request* req, ShopContext& ctx);
void ServeStylesheet(evhttp_request* req, ShopContext& ctx);
void ServeHealth(evhttp_request* req, ShopContext& ctx);

}  // namespace tidegate::demo

#endif  // TIDEGATE_DEMO_SHOP_PAGES_H_
