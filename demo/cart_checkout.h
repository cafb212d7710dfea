// The cart (kept in the `cart` cookie) and the checkout.
//
//   GET  /cart       shows the cart read from the cookie
//   POST /cart       form product_id, quantity (default 1): adds, sets the
//                    cookie, 303 to /cart
//   GET  /checkout   the checkout form (shipping_method, payment_method)
//   POST /checkout   places the order: 200 confirmation page, clears the cart
//                    cookie and sends `Tidegate-Session: end` (the proxy
//                    frees the shopper's waiting-room slot on it)
//
// Thread: handlers run on the shop's event-loop thread.
// Ownership: each handler completes `req` (evhttp frees it afterwards).
#ifndef TIDEGATE_DEMO_CART_CHECKOUT_H_
#define TIDEGATE_DEMO_CART_CHECKOUT_H_

#include <event2/http.h>

#include "demo/shop_context.h"

namespace tidegate::demo {

// The cart of this request (from its Cookie header; empty when absent).
Cart RequestCart(evhttp_request* req, const Catalog& catalog);

void HandleCart(evhttp_request* req, ShopContext& ctx);
void HandleCheckout(evhttp_request* req, ShopContext& ctx);

}  // namespace tidegate::demo

#endif  // TIDEGATE_DEMO_CART_CHECKOUT_H_
