#include "demo/shop_pages.h"

#include "demo/html.h"
#include "demo/http_util.h"

namespace tidegate::demo {
namespace {

constexpr int kReadMethods = EVHTTP_REQ_GET | EVHTTP_REQ_HEAD;
constexpr const char* kReadAllow = "GET, HEAD";
constexpr const char* kHtml = "text/html; charset=utf-8";

std::string PriceHtml(const Product& p) {
  if (p.sale_price_cents > 0) {
    return "<span class=\"price was\">" + FormatPrice(p.price_cents) +
           "</span> <span class=\"price sale\">" + FormatPrice(p.sale_price_cents) + "</span>";
  }
  return "<span class=\"price\">" + FormatPrice(p.price_cents) + "</span>";
}

std::string ProductCard(const Product& p) {
  std::string id = std::to_string(p.id);
  return "<li class=\"product\"><a href=\"/products/" + id + "\">" + EscapeHtml(p.name) + "</a> " +
         PriceHtml(p) + "</li>\n";
}

std::string AddToCartForm(const Product& p) {
  return "<form method=\"post\" action=\"/cart\"><input type=\"hidden\" name=\"product_id\" "
         "value=\"" +
         std::to_string(p.id) +
         "\"><label>Quantity <input type=\"number\" name=\"quantity\" value=\"1\" min=\"1\" "
         "max=\"99\"></label> <button type=\"submit\">Add to cart</button></form>";
}

}  // namespace

std::string BuildSalePage(const Catalog& catalog) {
  std::string body =
      "<h1>Summer sale</h1>\n<p>Selected gear at reduced prices while stock "
      "lasts.</p>\n<ul class=\"products\">\n";
  for (const Product& p : catalog.products()) {
    if (p.sale_price_cents > 0) body += ProductCard(p);
  }
  body += "</ul>\n";
  // Enough ordinary text that compression is worth it, like a real landing page.
  for (int i = 0; i < 20; ++i) {
    body +=
        "<p class=\"fineprint\">Sale prices are valid until stocks run out. Returns are free "
        "within 30 days. Prices include VAT.</p>\n";
  }
  return RenderPage("Sale", body);
}

std::string BuildStylesheet() {
  return "body.shop{font-family:system-ui,sans-serif;margin:0;color:#123;background:#f7fafc}\n"
         "header.top{display:flex;justify-content:space-between;padding:1em 2em;"
         "background:#0b3954;color:#fff}\n"
         "header.top a{color:#fff;margin-left:1em;text-decoration:none}\n"
         ".brand{font-weight:bold;margin-left:0!important}\n"
         "main{max-width:48em;margin:2em auto;padding:0 1em}\n"
         "ul.products{list-style:none;padding:0}\n"
         "li.product{padding:.5em 0;border-bottom:1px solid #dde}\n"
         ".price{font-weight:bold}.price.was{text-decoration:line-through;color:#888}\n"
         ".price.sale{color:#c0392b}\n"
         "table.cart{width:100%;border-collapse:collapse}table.cart td{padding:.3em}\n"
         "footer{text-align:center;color:#678;padding:2em}\n";
}

void ServeHome(evhttp_request* req, ShopContext& ctx) {
  if (!AllowMethods(req, kReadMethods, kReadAllow)) return;
  std::string body =
      "<h1>Gear for wet decks and long passages</h1>\n"
      "<p>Free shipping over 100.00. <a href=\"/sale\">See the sale</a>.</p>\n"
      "<ul class=\"products\">\n";
  for (const Product& p : ctx.catalog->products()) body += ProductCard(p);
  body += "</ul>\n";
  SendBody(req, 200, kHtml, RenderPage("Shop", body));
}

void ServeProduct(evhttp_request* req, ShopContext& ctx, std::string_view id_text) {
  if (!AllowMethods(req, kReadMethods, kReadAllow)) return;
  const Product* p = ctx.catalog->FindByText(id_text);
  if (p == nullptr) {
    SendErrorPage(req, 404, "No such product.");
    return;
  }
  std::string body = "<article class=\"product-page\"><h1>" + EscapeHtml(p->name) + "</h1>\n<p>" +
                     EscapeHtml(p->description) + "</p>\n<p>" + PriceHtml(*p) + "</p>\n" +
                     AddToCartForm(*p) + "\n</article>\n<p><a href=\"/\">All products</a></p>";
  SendBody(req, 200, kHtml, RenderPage(p->name, body));
}

void ServeSale(evhttp_request* req, ShopContext& ctx) {
  if (!AllowMethods(req, kReadMethods, kReadAllow)) return;
  AddHeader(req, "Vary", "Accept-Encoding");
  if (AcceptsGzip(req) && !ctx.sale_page_gzip.empty()) {
    AddHeader(req, "Content-Encoding", "gzip");
    SendBody(req, 200, kHtml, ctx.sale_page_gzip);
  } else {
    SendBody(req, 200, kHtml, ctx.sale_page);
  }
}

void ServeStylesheet(evhttp_request* req, ShopContext& ctx) {
  if (!AllowMethods(req, kReadMethods, kReadAllow)) return;
  AddHeader(req, "Cache-Control", "public, max-age=3600");
  SendBody(req, 200, "text/css; charset=utf-8", ctx.stylesheet);
}

void ServeHealth(evhttp_request* req, ShopContext& ctx) {
  if (!AllowMethods(req, kReadMethods, kReadAllow)) return;
  AddHeader(req, "Cache-Control", "no-store");
  SendBody(req, 200, "application/json",
           "{\"status\":\"ok\",\"requests_served\":" + std::to_string(ctx.requests_served) +
               ",\"pending_responses\":" + std::to_string(ctx.pending->size()) + "}\n");
}

}  // namespace tidegate::demo
