#include "demo/catalog.h"

#include <algorithm>
#include <charconv>

namespace tidegate::demo {
namespace {

bool ParseInt(std::string_view text, int* out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

Catalog::Catalog()
    : products_({
          {1, "Storm Jacket", "Waterproof, breathable sailing jacket with a high collar.", 18900,
           0},
          {2, "Deck Shoes", "Non-marking soles with siping for wet decks.", 8900, 6900},
          {3, "Brass Compass", "A handheld bearing compass in polished brass.", 5400, 0},
          {4, "Canvas Duffel", "A 40 litre duffel in waxed canvas, sized for cabin lockers.", 7200,
           5400},
          {5, "Tide Clock", "Shows high and low water at a glance.", 4500, 0},
          {6, "Rope Bracelet", "Braided sailing rope with a stainless shackle.", 1900, 1200},
      }) {}

const Product* Catalog::Find(int id) const {
  auto it = std::find_if(products_.begin(), products_.end(),
                         [id](const Product& p) { return p.id == id; });
  return it == products_.end() ? nullptr : &*it;
}

const Product* Catalog::FindByText(std::string_view id_text) const {
  int id = 0;
  return ParseInt(id_text, &id) ? Find(id) : nullptr;
}

long long EffectivePrice(const Product& product) {
  return product.sale_price_cents > 0 ? product.sale_price_cents : product.price_cents;
}

Cart Cart::FromCookie(std::string_view value, const Catalog& catalog) {
  Cart cart;
  while (!value.empty()) {
    size_t bar = value.find('|');
    std::string_view item = value.substr(0, bar);
    value = bar == std::string_view::npos ? std::string_view() : value.substr(bar + 1);
    size_t colon = item.find(':');
    int id = 0;
    int quantity = 0;
    if (colon == std::string_view::npos || !ParseInt(item.substr(0, colon), &id) ||
        !ParseInt(item.substr(colon + 1), &quantity) || quantity <= 0 ||
        catalog.Find(id) == nullptr) {
      continue;
    }
    cart.Add(id, quantity);
  }
  return cart;
}

void Cart::Add(int id, int quantity) {
  if (quantity <= 0) return;
  int& line = lines_[id];
  line = std::min(kMaxQuantity, line + std::min(quantity, kMaxQuantity));
}

int Cart::ItemCount() const {
  int count = 0;
  for (const auto& [id, quantity] : lines_) count += quantity;
  return count;
}

long long Cart::TotalCents(const Catalog& catalog) const {
  long long total = 0;
  for (const auto& [id, quantity] : lines_) {
    if (const Product* p = catalog.Find(id)) total += EffectivePrice(*p) * quantity;
  }
  return total;
}

std::string Cart::ToCookie() const {
  std::string out;
  for (const auto& [id, quantity] : lines_) {
    if (!out.empty()) out += '|';
    out += std::to_string(id) + ':' + std::to_string(quantity);
  }
  return out;
}

}  // namespace tidegate::demo
