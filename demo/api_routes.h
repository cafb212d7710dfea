// The shop's JSON API (nlohmann-json):
//   GET /api/products       all products
//   GET /api/products/{id}  one product, 404 {"error":"not_found"} otherwise
//   GET /api/cart           the cart from the `cart` cookie
//
// Thread: handlers run on the shop's event-loop thread.
// Ownership: each handler completes `req` (evhttp frees it afterwards).
#ifndef TIDEGATE_DEMO_API_ROUTES_H_
#define TIDEGATE_DEMO_API_ROUTES_H_

#include <event2/http.h>

#include <string_view>

#include "demo/shop_context.h"

namespace tidegate::demo {

void ServeApiProducts(evhttp_request* req, ShopContext& ctx);
void ServeApiProduct(evhttp_request* req, ShopContext& ctx, std::string_view id_text);
void ServeApiCart(evhttp_request* req, ShopContext& ctx);

}  // namespace tidegate::demo

#endif  // TIDEGATE_DEMO_API_ROUTES_H_
