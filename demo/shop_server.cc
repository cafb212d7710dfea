#include "demo/shop_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "demo/api_routes.h"
#include "demo/cart_checkout.h"
#include "demo/gzip.h"
#include "demo/http_util.h"
#include "demo/shop_pages.h"
#include "demo/test_pages.h"
#include "demo/test_routes.h"

namespace tidegate::demo {
namespace {

constexpr size_t kMaxHeadersSize = 64 * 1024;
constexpr size_t kMaxBodySize = 64 * 1024 * 1024;
constexpr int kIdleTimeoutSeconds = 120;

bool ConsumePrefix(std::string_view* path, std::string_view prefix) {
  if (path->substr(0, prefix.size()) != prefix) return false;
  path->remove_prefix(prefix.size());
  return true;
}

}  // namespace

ShopServer::ShopServer(event_base* base, CapacityOptions capacity)
    : base_(base), pending_(base), http_(evhttp_new(base)) {
  if (capacity.workers > 0) {
    capacity_ =
        std::make_unique<CapacityGate>(base, capacity, [this](evhttp_request* req) { Route(req); });
  }
  ctx_.base = base_;
  ctx_.catalog = &catalog_;
  ctx_.pending = &pending_;
  ctx_.sale_page = BuildSalePage(catalog_);
  ctx_.sale_page_gzip = GzipCompress(ctx_.sale_page).value_or(std::string());
  ctx_.bench_1k_page = GeneratedHtml(1024);
  ctx_.bench_24k_page = GeneratedHtml(24 * 1024);
  ctx_.stylesheet = BuildStylesheet();

  evhttp_set_allowed_methods(http_, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                        EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
                                        EVHTTP_REQ_TRACE | EVHTTP_REQ_PATCH);
  evhttp_set_max_headers_size(http_, kMaxHeadersSize);
  evhttp_set_max_body_size(http_, kMaxBodySize);
  evhttp_set_timeout(http_, kIdleTimeoutSeconds);
  evhttp_set_gencb(http_, &OnRequest, this);
}

ShopServer::~ShopServer() {
  if (capacity_) capacity_->DropAll();
  pending_.DropAll();
  evhttp_free(http_);
}

bool ShopServer::Listen(const std::string& host, int port, int* bound_port, std::string* error) {
  evhttp_bound_socket* handle =
      evhttp_bind_socket_with_handle(http_, host.c_str(), static_cast<ev_uint16_t>(port));
  if (handle == nullptr) {
    *error = "cannot listen on " + host + ":" + std::to_string(port) + ": " + std::strerror(errno);
    return false;
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(evhttp_bound_socket_get_fd(handle), reinterpret_cast<sockaddr*>(&addr), &len) !=
      0) {
    *error = std::string("getsockname: ") + std::strerror(errno);
    return false;
  }
  *bound_port = addr.ss_family == AF_INET6
                    ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                    : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return true;
}

void ShopServer::OnRequest(evhttp_request* req, void* arg) {
  auto* self = static_cast<ShopServer*>(arg);
  if (self->capacity_ && RequestPath(req) != "/health") {
    self->capacity_->Submit(req);
    return;
  }
  self->Route(req);
}

void ShopServer::Route(evhttp_request* req) {
  ++ctx_.requests_served;
  const std::string full_path = RequestPath(req);
  std::string_view path = full_path;

  if (path == "/") return ServeHome(req, ctx_);
  if (path == "/cart") return HandleCart(req, ctx_);
  if (path == "/checkout") return HandleCheckout(req, ctx_);
  if (path == "/sale") return ServeSale(req, ctx_);
  if (path == "/static/shop.css") return ServeStylesheet(req, ctx_);
  if (path == "/health") return ServeHealth(req, ctx_);
  if (path == "/api/products") return ServeApiProducts(req, ctx_);
  if (path == "/api/cart") return ServeApiCart(req, ctx_);
  if (path == "/echo") return ServeEcho(req, ctx_);
  if (path == "/bytes") return ServeBytes(req, ctx_);
  if (path == "/chunked") return ServeChunked(req, ctx_);
  if (path == "/slow") return ServeSlow(req, ctx_);
  if (path == "/status") return ServeStatus(req, ctx_);
  if (path == "/bench/1k.html") return ServeBenchPage(req, ctx_.bench_1k_page);
  if (path == "/bench/24k.html") return ServeBenchPage(req, ctx_.bench_24k_page);
  if (ServeBannerTestPage(req, ctx_, path)) return;
  std::string_view rest = path;
  if (ConsumePrefix(&rest, "/products/")) return ServeProduct(req, ctx_, rest);
  rest = path;
  if (ConsumePrefix(&rest, "/api/products/")) return ServeApiProduct(req, ctx_, rest);
  SendErrorPage(req, 404, "There is nothing at this address.");
}

}  // namespace tidegate::demo
