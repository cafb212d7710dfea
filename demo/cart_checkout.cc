#include "demo/cart_checkout.h"

#include <string>

#include "demo/html.h"
#include "demo/http_util.h"

namespace tidegate::demo {
namespace {

constexpr const char* kHtml = "text/html; charset=utf-8";

struct Choice {
  const char* value;
  const char* label;
  long long fee_cents;
};

constexpr Choice kShippingMethods[] = {
    {"standard", "Standard (3-5 days)", 490},
    {"express", "Express (next day)", 1490},
};
constexpr Choice kPaymentMethods[] = {
    {"card", "Credit card", 0},
    {"paypal", "PayPal", 0},
    {"invoice", "Invoice", 0},
};

template <size_t N>
const Choice* FindChoice(const Choice (&choices)[N], const std::string& value) {
  for (const Choice& c : choices) {
    if (value == c.value) return &c;
  }
  return nullptr;
}

std::string CartTable(const Cart& cart, const Catalog& catalog) {
  std::string html = "<table class=\"cart\">\n<tr><th>Item</th><th>Qty</th><th>Price</th></tr>\n";
  for (const auto& [id, quantity] : cart.lines()) {
    const Product* p = catalog.Find(id);
    if (p == nullptr) continue;
    html += "<tr><td><a href=\"/products/" + std::to_string(id) + "\">" + EscapeHtml(p->name) +
            "</a></td><td>" + std::to_string(quantity) + "</td><td>" +
            FormatPrice(EffectivePrice(*p) * quantity) + "</td></tr>\n";
  }
  html += "<tr><td>Total</td><td>" + std::to_string(cart.ItemCount()) + "</td><td>" +
          FormatPrice(cart.TotalCents(catalog)) + "</td></tr>\n</table>\n";
  return html;
}

template <size_t N>
std::string RadioGroup(const char* name, const Choice (&choices)[N]) {
  std::string html;
  bool first = true;
  for (const Choice& c : choices) {
    html += std::string("<label><input type=\"radio\" name=\"") + name + "\" value=\"" + c.value +
            "\"" + (first ? " checked" : "") + "> " + c.label + "</label><br>\n";
    first = false;
  }
  return html;
}

void ShowCart(evhttp_request* req, ShopContext& ctx) {
  Cart cart = RequestCart(req, *ctx.catalog);
  std::string body = "<h1>Your cart</h1>\n";
  if (cart.empty()) {
    body += "<p>Your cart is empty. <a href=\"/\">Browse the shop</a>.</p>";
  } else {
    body += CartTable(cart, *ctx.catalog) + "<p><a href=\"/checkout\">Go to checkout</a></p>";
  }
  AddHeader(req, "Cache-Control", "no-store");
  SendBody(req, 200, kHtml, RenderPage("Cart", body));
}

void AddToCart(evhttp_request* req, ShopContext& ctx) {
  FormValues form = FormBody(req);
  const Product* p = ctx.catalog->FindByText(form["product_id"]);
  std::string quantity_text = form.count("quantity") ? form["quantity"] : "1";
  auto quantity = ParseCount(quantity_text, Cart::kMaxQuantity);
  if (p == nullptr || !quantity || *quantity == 0) {
    SendErrorPage(req, 400, "Pick a product and a quantity between 1 and 99.");
    return;
  }
  Cart cart = RequestCart(req, *ctx.catalog);
  cart.Add(p->id, static_cast<int>(*quantity));
  AddHeader(
      req, "Set-Cookie",
      std::string(Cart::kCookieName) + "=" + cart.ToCookie() + "; Path=/; HttpOnly; SameSite=Lax");
  SendRedirect(req, "/cart");
}

void ShowCheckout(evhttp_request* req, ShopContext& ctx) {
  Cart cart = RequestCart(req, *ctx.catalog);
  std::string body = "<h1>Checkout</h1>\n";
  if (cart.empty()) {
    body += "<p>Your cart is empty. <a href=\"/\">Browse the shop</a>.</p>";
  } else {
    body += CartTable(cart, *ctx.catalog) +
            "<form method=\"post\" action=\"/checkout\">\n"
            "<fieldset><legend>Shipping</legend>\n" +
            RadioGroup("shipping_method", kShippingMethods) +
            "</fieldset>\n<fieldset><legend>Payment</legend>\n" +
            RadioGroup("payment_method", kPaymentMethods) +
            "</fieldset>\n<label>Name <input name=\"name\" autocomplete=\"name\"></label><br>\n"
            "<button type=\"submit\">Place order</button>\n</form>";
  }
  AddHeader(req, "Cache-Control", "no-store");
  SendBody(req, 200, kHtml, RenderPage("Checkout", body));
}

void PlaceOrder(evhttp_request* req, ShopContext& ctx) {
  FormValues form = FormBody(req);
  const Choice* shipping = FindChoice(kShippingMethods, form["shipping_method"]);
  const Choice* payment = FindChoice(kPaymentMethods, form["payment_method"]);
  Cart cart = RequestCart(req, *ctx.catalog);
  if (cart.empty()) {
    SendErrorPage(req, 400, "Your cart is empty; there is nothing to order.");
    return;
  }
  if (shipping == nullptr || payment == nullptr) {
    SendErrorPage(req, 400,
                  "Choose a shipping_method (standard, express) and a payment_method (card, "
                  "paypal, invoice).");
    return;
  }
  uint64_t order = ctx.next_order_number++;
  long long total = cart.TotalCents(*ctx.catalog) + shipping->fee_cents;
  std::string body = "<h1>Thank you!</h1>\n<p>Order <strong id=\"order\">" + std::to_string(order) +
                     "</strong> is placed.</p>\n" + CartTable(cart, *ctx.catalog) +
                     "<p>Shipping: " + shipping->label + " (" + FormatPrice(shipping->fee_cents) +
                     ")<br>Payment: " + payment->label + "<br>Charged: " + FormatPrice(total) +
                     "</p>\n" + "<p><a href=\"/\">Continue shopping</a></p>";
  AddHeader(req, "Tidegate-Session", "end");
  AddHeader(req, "Set-Cookie",
            std::string(Cart::kCookieName) + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
  AddHeader(req, "Cache-Control", "no-store");
  SendBody(req, 200, kHtml, RenderPage("Order placed", body));
}

}  // namespace

Cart RequestCart(evhttp_request* req, const Catalog& catalog) {
  auto value = CookieValue(req, Cart::kCookieName);
  return value ? Cart::FromCookie(*value, catalog) : Cart();
}

void HandleCart(evhttp_request* req, ShopContext& ctx) {
  if (!AllowMethods(req, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST, "GET, HEAD, POST")) {
    return;
  }
  if (evhttp_request_get_command(req) == EVHTTP_REQ_POST) {
    AddToCart(req, ctx);
  } else {
    ShowCart(req, ctx);
  }
}

void HandleCheckout(evhttp_request* req, ShopContext& ctx) {
  if (!AllowMethods(req, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST, "GET, HEAD, POST")) {
    return;
  }
  if (evhttp_request_get_command(req) == EVHTTP_REQ_POST) {
    PlaceOrder(req, ctx);
  } else {
    ShowCheckout(req, ctx);
  }
}

}  // namespace tidegate::demo
