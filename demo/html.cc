#include "demo/html.h"

#include <cstdio>

namespace tidegate::demo {

std::string RenderPage(std::string_view title, std::string_view body_html) {
  std::string page;
  page.reserve(body_html.size() + 1024);
  page += "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  page += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  page += "<title>";
  page += pages::EscapeHtml(title);
  page += " | Tide &amp; Anchor</title>\n";
  page += "<link rel=\"stylesheet\" href=\"/static/shop.css\">\n</head>\n";
  page +=
      "<body class=\"shop\">\n<header class=\"top\"><a class=\"brand\" href=\"/\">Tide &amp; "
      "Anchor</a>\n<nav><a href=\"/\">Shop</a> <a href=\"/sale\">Sale</a> "
      "<a href=\"/cart\">Cart</a> <a href=\"/checkout\">Checkout</a></nav></header>\n";
  page += "<main>\n";
  page += body_html;
  page += "\n</main>\n<footer>Tide &amp; Anchor demo shop &middot; served by demo_shop</footer>\n";
  page += "</body>\n</html>\n";
  return page;
}

std::string FormatPrice(long long cents) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%02lld", cents / 100, cents % 100);
  return buf;
}

}  // namespace tidegate::demo
