#include "demo/api_routes.h"

#include <nlohmann/json.hpp>

#include "demo/cart_checkout.h"
#include "demo/html.h"
#include "demo/http_util.h"

namespace tidegate::demo {
namespace {

using nlohmann::json;

constexpr const char* kJson = "application/json";

json ProductJson(const Product& p) {
  json out = {{"id", p.id},
              {"name", p.name},
              {"description", p.description},
              {"price", FormatPrice(EffectivePrice(p))},
              {"price_cents", EffectivePrice(p)},
              {"on_sale", p.sale_price_cents > 0},
              {"url", "/products/" + std::to_string(p.id)}};
  if (p.sale_price_cents > 0) out["regular_price_cents"] = p.price_cents;
  return out;
}

bool AllowRead(evhttp_request* req) {
  if ((evhttp_request_get_command(req) & (EVHTTP_REQ_GET | EVHTTP_REQ_HEAD)) != 0) return true;
  AddHeader(req, "Allow", "GET, HEAD");
  SendBody(req, 405, kJson,
           json{{"error", "method_not_allowed"}, {"detail", "use GET"}}.dump() + "\n");
  return false;
}

void SendJson(evhttp_request* req, int code, const json& value) {
  SendBody(req, code, kJson, value.dump() + "\n");
}

}  // namespace

void ServeApiProducts(evhttp_request* req, ShopContext& ctx) {
  if (!AllowRead(req)) return;
  json products = json::array();
  for (const Product& p : ctx.catalog->products()) products.push_back(ProductJson(p));
  SendJson(req, 200, json{{"products", products}});
}

void ServeApiProduct(evhttp_request* req, ShopContext& ctx, std::string_view id_text) {
  if (!AllowRead(req)) return;
  const Product* p = ctx.catalog->FindByText(id_text);
  if (p == nullptr) {
    SendJson(req, 404, json{{"error", "not_found"}, {"detail", "no such product"}});
    return;
  }
  SendJson(req, 200, ProductJson(*p));
}

void ServeApiCart(evhttp_request* req, ShopContext& ctx) {
  if (!AllowRead(req)) return;
  Cart cart = RequestCart(req, *ctx.catalog);
  json items = json::array();
  for (const auto& [id, quantity] : cart.lines()) {
    const Product* p = ctx.catalog->Find(id);
    if (p == nullptr) continue;
    items.push_back({{"id", id},
                     {"name", p->name},
                     {"quantity", quantity},
                     {"line_total_cents", EffectivePrice(*p) * quantity}});
  }
  AddHeader(req, "Cache-Control", "no-store");
  SendJson(req, 200,
           json{{"items", items},
                {"item_count", cart.ItemCount()},
                {"total_cents", cart.TotalCents(*ctx.catalog)},
                {"total", FormatPrice(cart.TotalCents(*ctx.catalog))}});
}

}  // namespace tidegate::demo
