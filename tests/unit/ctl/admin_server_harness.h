// Test harness: a real AdminServer on 127.0.0.1 port 0, its control
// event_base running in a thread of its own, with a LocalStore and an audit
// log in a temporary folder.
#pragma once

#include <event2/event.h>
#include <event2/thread.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "admin/admin_server.h"
#include "ctl/http_client.h"
#include "tests/unit/admin/test_fixtures.h"

namespace tidegate::ctl::testing {

class NoMetrics : public admin::MetricsSource {
 public:
  admin::MetricsSnapshot Collect() const override { return {}; }
};

class AdminServerHarness {
 public:
  explicit AdminServerHarness(
      admin::AdminServerOptions options = {},
      std::shared_ptr<const config::Config> config = admin::testing::TestConfig())
      : config_(std::move(config)) {
    evthread_use_pthreads();
    // As tidegate does (proxy/server.cc): OpenSSL writes with write(2), and a
    // client that drops the connection after the handshake (a certificate
    // naming another host) would otherwise kill the test with SIGPIPE.
    signal(SIGPIPE, SIG_IGN);
    char dir_template[] = "/tmp/tidegate_ctl_XXXXXX";
    dir_ = mkdtemp(dir_template);
    std::string error;
    audit_ = admin::AuditLog::Open(dir_ + "/audit.log", &error);
    base_ = event_base_new();
    admin::AdminApi::Deps deps;
    deps.config = [this] { return config_; };
    deps.store = &store_;
    deps.audit = audit_.get();
    deps.metrics = &metrics_;
    server_ = admin::AdminServer::Start(base_, config_->admin, deps, options, &error);
    start_error_ = error;
    if (server_) {
      thread_ = std::thread([this] { event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY); });
    }
  }
  ~AdminServerHarness() {
    if (thread_.joinable()) {
      event_base_loopexit(base_, nullptr);
      thread_.join();
    }
    server_.reset();
    event_base_free(base_);
    std::filesystem::remove_all(dir_);
  }

  bool started() const { return server_ != nullptr; }
  const std::string& start_error() const { return start_error_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  const std::string& dir() const { return dir_; }

  HttpResponse Send(const std::string& method, const std::string& path, const char* token,
                    std::optional<std::string> body = std::nullopt, std::string* error = nullptr) {
    HttpTarget target;
    std::string parse_error;
    ParseAdminUrl(url(), &target, &parse_error);
    HttpRequestSpec spec;
    spec.method = method;
    spec.path_and_query = path;
    if (token) spec.bearer_token = token;
    spec.json_body = std::move(body);
    HttpResponse response;
    HttpError kind;
    std::string local_error;
    if (!SendRequest(target, spec, &response, &kind, error ? error : &local_error))
      response.status = -1;
    return response;
  }

 private:
  std::string dir_;
  std::shared_ptr<const config::Config> config_;
  admin::LocalStore store_;
  NoMetrics metrics_;
  std::unique_ptr<admin::AuditLog> audit_;
  event_base* base_ = nullptr;
  std::unique_ptr<admin::AdminServer> server_;
  std::string start_error_;
  std::thread thread_;
};

}  // namespace tidegate::ctl::testing
