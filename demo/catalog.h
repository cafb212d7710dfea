// The demo shop's fixed product catalog and the shopping cart model, whose
// state lives entirely in a cookie (the origin keeps no per-shopper state).
//
// Thread: Catalog is immutable after construction and may be read from any
// thread. Cart is a plain value type.
#ifndef TIDEGATE_DEMO_CATALOG_H_
#define TIDEGATE_DEMO_CATALOG_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tidegate::demo {

struct Product {
  int id = 0;
  std::string name;
  std::string description;
  long long price_cents = 0;
  long long sale_price_cents = 0;  // 0 = not on sale
};

class Catalog {
 public:
  // Builds the built-in catalog (a handful of sailing goods).
  Catalog();

  const std::vector<Product>& products() const { return products_; }

  // The product with `id`, or nullptr. The pointer lives as long as the Catalog.
  const Product* Find(int id) const;

  // Parses a decimal product id ("3"); returns nullptr when malformed or unknown.
  const Product* FindByText(std::string_view id_text) const;

 private:
  std::vector<Product> products_;
};

// A cart: product id -> quantity (> 0). Serialized in the `cart` cookie as
// "ID:QTY|ID:QTY" (only characters allowed in a cookie value).
class Cart {
 public:
  static constexpr int kMaxQuantity = 99;
  static constexpr const char* kCookieName = "cart";

  // Parses a cookie value; malformed items and unknown products are dropped.
  static Cart FromCookie(std::string_view value, const Catalog& catalog);

  // Adds `quantity` (clamped to kMaxQuantity per line) of product `id`.
  void Add(int id, int quantity);

  bool empty() const { return lines_.empty(); }
  const std::map<int, int>& lines() const { return lines_; }
  int ItemCount() const;
  long long TotalCents(const Catalog& catalog) const;
  std::string ToCookie() const;

 private:
  std::map<int, int> lines_;
};

// The effective price of a product (sale price when on sale).
long long EffectivePrice(const Product& product);

}  // namespace tidegate::demo

#endif  // TIDEGATE_DEMO_CATALOG_H_
