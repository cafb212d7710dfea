#include "notify/http_poster.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/timeval.h"

namespace tidegate::notify {

struct HttpPoster::Call {
  HttpPoster* owner = nullptr;
  evhttp_connection* connection = nullptr;
  std::function<void(Result)> done;
  std::string error;  // set by OnError before OnResponse
  bool finished = false;
  ~Call() {
    if (connection != nullptr) evhttp_connection_free(connection);
  }
};

HttpPoster::HttpPoster(event_base* base) : base_(base) {
  dns_ = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
  reap_.reset(event_new(base, -1, 0, &HttpPoster::OnReap, this));
}

HttpPoster::~HttpPoster() {
  // Abandon in-flight POSTs: their callbacks must not reach a dead poster.
  for (auto& [raw, call] : calls_) call->done = nullptr;
  for (auto& [raw, call] : calls_) call->finished = true;
  calls_.clear();
  finished_.clear();
  reap_.reset();
  if (dns_ != nullptr) evdns_base_free(dns_, /*fail_requests=*/0);
  if (tls_ != nullptr) SSL_CTX_free(tls_);
}

ssl_ctx_st* HttpPoster::TlsContext(std::string* error) {
  if (tls_ != nullptr) return tls_;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr || SSL_CTX_set_default_verify_paths(ctx) != 1) {
    if (ctx != nullptr) SSL_CTX_free(ctx);
    *error = "TLS client context could not be created";
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  tls_ = ctx;
  return tls_;
}

void HttpPoster::Post(const std::string& url, const Headers& headers, const std::string& body,
                      std::chrono::milliseconds timeout, std::function<void(Result)> done) {
  auto call = std::make_unique<Call>();
  Call* raw = call.get();
  call->owner = this;
  call->done = std::move(done);
  calls_.emplace(raw, std::move(call));

  evhttp_uri* uri = evhttp_uri_parse(url.c_str());
  const char* scheme = uri ? evhttp_uri_get_scheme(uri) : nullptr;
  const char* host = uri ? evhttp_uri_get_host(uri) : nullptr;
  if (uri == nullptr || scheme == nullptr || host == nullptr) {
    if (uri != nullptr) evhttp_uri_free(uri);
    return Finish(raw, Result{0, "bad url"});
  }
  bool https = std::string(scheme) == "https";
  int port = evhttp_uri_get_port(uri);
  if (port < 0) port = https ? 443 : 80;
  std::string host_text = host;  // as written in the URL ("[::1]" for IPv6): the Host header
  std::string host_name = host_text;
  if (host_name.size() > 2 && host_name.front() == '[') {
    host_name = host_name.substr(1, host_name.size() - 2);  // IPv6 literal
  }
  std::string target = evhttp_uri_get_path(uri) ? evhttp_uri_get_path(uri) : "";
  if (target.empty()) target = "/";
  if (const char* query = evhttp_uri_get_query(uri)) target += std::string("?") + query;
  evhttp_uri_free(uri);

  if (https) {
    std::string error;
    SSL_CTX* ctx = TlsContext(&error);
    SSL* ssl = ctx ? SSL_new(ctx) : nullptr;
    if (ssl == nullptr) return Finish(raw, Result{0, error.empty() ? "TLS setup failed" : error});
    SSL_set_tlsext_host_name(ssl, host_name.c_str());
    SSL_set1_host(ssl, host_name.c_str());
    bufferevent* bev =
        bufferevent_openssl_socket_new(base_, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                       BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (bev == nullptr) {
      SSL_free(ssl);
      return Finish(raw, Result{0, "TLS setup failed"});
    }
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    raw->connection =
        evhttp_connection_base_bufferevent_new(base_, dns_, bev, host_name.c_str(), port);
  } else {
    raw->connection = evhttp_connection_base_new(base_, dns_, host_name.c_str(), port);
  }
  if (raw->connection == nullptr) return Finish(raw, Result{0, "connection setup failed"});
  timeval tv = common::ToTimeval(timeout);
  evhttp_connection_set_timeout_tv(raw->connection, &tv);
  evhttp_connection_set_retries(raw->connection, 0);

  evhttp_request* request = evhttp_request_new(&HttpPoster::OnResponse, raw);
  evhttp_request_set_error_cb(request, [](evhttp_request_error error, void* arg) {
    HttpPoster::OnError(static_cast<int>(error), arg);
  });
  evkeyvalq* out = evhttp_request_get_output_headers(request);
  std::string host_header = host_text;  // `host` pointed into the freed uri
  if (https ? port != 443 : port != 80) {
    host_header += ":" + std::to_string(port);
  }
  evhttp_add_header(out, "Host", host_header.c_str());
  evhttp_add_header(out, "Content-Type", "application/json");
  evhttp_add_header(out, "Connection", "close");
  for (const auto& [name, value] : headers) evhttp_add_header(out, name.c_str(), value.c_str());
  evbuffer_add(evhttp_request_get_output_buffer(request), body.data(), body.size());
  if (evhttp_make_request(raw->connection, request, EVHTTP_REQ_POST, target.c_str()) != 0) {
    // evhttp_make_request frees the request on failure.
    return Finish(raw, Result{0, "request could not be sent"});
  }
}

void HttpPoster::OnError(int error, void* arg) {
  auto* call = static_cast<Call*>(arg);
  switch (static_cast<evhttp_request_error>(error)) {
    case EVREQ_HTTP_TIMEOUT:
      call->error = "timed out";
      break;
    case EVREQ_HTTP_EOF:
      call->error = "connection closed before a response";
      break;
    case EVREQ_HTTP_INVALID_HEADER:
      call->error = "invalid response";
      break;
    case EVREQ_HTTP_BUFFER_ERROR:
      call->error = "connection failed (refused, unreachable or name not resolved)";
      break;
    case EVREQ_HTTP_REQUEST_CANCEL:
      call->error = "cancelled";
      break;
    case EVREQ_HTTP_DATA_TOO_LONG:
      call->error = "response too long";
      break;
  }
}

void HttpPoster::OnResponse(evhttp_request* request, void* arg) {
  auto* call = static_cast<Call*>(arg);
  Result result;
  result.status = request != nullptr ? evhttp_request_get_response_code(request) : 0;
  // evhttp reports a failed connect (refused, unreachable, name not
  // resolved) with no response and without the error callback.
  if (result.status == 0) {
    result.error = call->error.empty()
                       ? "connection failed (refused, unreachable or name not resolved)"
                       : call->error;
  }
  call->owner->Finish(call, std::move(result));
}

void HttpPoster::Finish(Call* call, Result result) {
  if (call->finished) return;
  call->finished = true;
  // Freed on the next loop turn: evhttp must not see its connection freed
  // inside its own callback, and Post() never calls back synchronously.
  auto it = calls_.find(call);
  if (it == calls_.end()) return;
  std::function<void(Result)> done = std::move(call->done);
  finished_.push_back(std::move(it->second));
  calls_.erase(it);
  pending_results_.push_back({std::move(done), std::move(result)});
  event_active(reap_.get(), EV_TIMEOUT, 0);
}

void HttpPoster::OnReap(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<HttpPoster*>(arg);
  self->finished_.clear();
  auto results = std::move(self->pending_results_);
  self->pending_results_.clear();
  for (auto& [done, result] : results) {
    if (done) done(std::move(result));
  }
}

}  // namespace tidegate::notify
