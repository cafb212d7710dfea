#include "tests/integration/harness/tidegate_process.h"

#include <gtest/gtest.h>
#include <stdio.h>

#include <sys/wait.h>

#include <regex>
#include <thread>

#include "tests/integration/harness/ports.h"

namespace tidegate::itest {
namespace {

void ReplaceAll(std::string* text, const std::string& from, const std::string& to) {
  for (size_t pos = text->find(from); pos != std::string::npos;
       pos = text->find(from, pos + to.size())) {
    text->replace(pos, from.size(), to);
  }
}

void SetKey(KeyValues* keys, const std::string& key, const std::string& value) {
  for (auto& [k, v] : *keys) {
    if (k == key) {
      v = value;
      return;
    }
  }
  keys->emplace_back(key, value);
}

}  // namespace

std::string TidegateBinary() { return TIDEGATE_BINARY; }

std::string TidegateProcess::Fill(const std::string& toml) const {
  std::string out = toml;
  ReplaceAll(&out, "${PORT}", std::to_string(port_));
  ReplaceAll(&out, "${TLS_PORT}", std::to_string(tls_port_));
  ReplaceAll(&out, "${ADMIN_PORT}", std::to_string(admin_port_));
  ReplaceAll(&out, "${DIR}", dir_->path());
  return out;
}

std::unique_ptr<TidegateProcess> TidegateProcess::Start(const TempDir& dir,
                                                        const TidegateOptions& options,
                                                        std::string* error) {
  // A probed port can still be taken by another process between the probe
  // and tidegate's bind; then tidegate says "already in use" and we retry
  // with fresh ports (a few times at most).
  for (int attempt = 0;; ++attempt) {
    auto tg = StartOnce(dir, options, error);
    if (tg || attempt == 2 || error->find("in use") == std::string::npos) return tg;
  }
}

std::unique_ptr<TidegateProcess> TidegateProcess::StartOnce(const TempDir& dir,
                                                            const TidegateOptions& options,
                                                            std::string* error) {
  // Without [admin], tidegate listens on the fixed default 127.0.0.1:9901:
  // two tests running in parallel would collide on it.
  if (options.config.find("[admin]") == std::string::npos) {
    *error = "test configuration without [admin]: set listen = \"127.0.0.1:${ADMIN_PORT}\"";
    return nullptr;
  }
  std::unique_ptr<TidegateProcess> tg(new TidegateProcess());
  tg->dir_ = &dir;
  tg->port_ = FreeLoopbackPort();
  tg->tls_port_ = FreeLoopbackPort();
  tg->admin_port_ = FreeLoopbackPort();
  bool wants_tls = options.config.find("${TLS_PORT}") != std::string::npos;
  tg->config_path_ = dir.Write(options.name + ".toml", tg->Fill(options.config));

  ProcessOptions po;
  po.argv = {options.binary.empty() ? TidegateBinary() : options.binary, "-c", tg->config_path_};
  po.argv.insert(po.argv.end(), options.extra_args.begin(), options.extra_args.end());
  po.log_dir = dir.path();
  po.name = options.name;
  po.max_open_files = options.max_open_files;
  tg->process_ = Process::Start(po, error);
  if (!tg->process_) return nullptr;

  auto deadline = std::chrono::steady_clock::now() + options.ready_timeout;
  for (;;) {
    if (!tg->process_->Running()) {
      *error = "tidegate exited with status " + std::to_string(*tg->process_->exit_status()) +
               " before accepting; stderr:\n" + tg->process_->Stderr();
      return nullptr;
    }
    if (PortAccepts(tg->port_) && (!wants_tls || PortAccepts(tg->tls_port_))) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      *error = "tidegate did not accept on 127.0.0.1:" + std::to_string(tg->port_) +
               " in time; stderr:\n" + tg->process_->Stderr();
      return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return tg;
}

bool TidegateProcess::RewriteConfig(const std::string& toml) {
  std::string tmp = config_path_ + ".new";
  FILE* f = fopen(tmp.c_str(), "wb");
  if (f == nullptr) return false;
  std::string text = Fill(toml);
  bool ok = fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = fclose(f) == 0 && ok;
  return ok && rename(tmp.c_str(), config_path_.c_str()) == 0;
}

std::optional<int> TidegateProcess::Stop(std::chrono::milliseconds timeout) {
  process_->Signal(SIGTERM);
  return process_->WaitExit(timeout);
}

std::unique_ptr<TidegateProcess> StartTidegateOrFail(const TempDir& dir,
                                                     const TidegateOptions& options) {
  std::string error;
  auto tg = TidegateProcess::Start(dir, options, &error);
  if (!tg) ADD_FAILURE() << "cannot start tidegate: " << error;
  return tg;
}

std::string ProxyConfig(uint16_t origin_port, const KeyValues& server_keys,
                        const KeyValues& upstream_keys, const std::string& tail) {
  KeyValues server = {
      {"listen", "[\"127.0.0.1:${PORT}\"]"}, {"workers", "1"},
      {"header_timeout", "\"2s\""},          {"body_timeout", "\"5s\""},
      {"keepalive_timeout", "\"10s\""},      {"send_timeout", "\"5s\""},
      {"drain_timeout", "\"5s\""},
  };
  for (const auto& [k, v] : server_keys) SetKey(&server, k, v);
  KeyValues upstream = {
      {"servers", "[\"127.0.0.1:" + std::to_string(origin_port) + "\"]"},
      {"connect_timeout", "\"1s\""},
      {"response_timeout", "\"5s\""},
      {"read_timeout", "\"5s\""},
  };
  for (const auto& [k, v] : upstream_keys) SetKey(&upstream, k, v);

  std::string out = "[server]\n";
  for (const auto& [k, v] : server) out += k + " = " + v + "\n";
  out += "\n[upstream]\n";
  for (const auto& [k, v] : upstream) out += k + " = " + v + "\n";
  out += "\n[admin]\nlisten = \"127.0.0.1:${ADMIN_PORT}\"\n";
  out += tail;
  return out;
}

pid_t UpgradeInPlace(TidegateProcess& tg, std::chrono::milliseconds within, std::string* error) {
  if (!tg.process().Signal(SIGUSR2)) {
    *error = "SIGUSR2 could not be sent";
    return -1;
  }
  auto deadline = std::chrono::steady_clock::now() + within;
  std::smatch m;
  std::string err;
  while (!std::regex_search(err = tg.Stderr(), m, std::regex(R"(new process pid (\d+) serves)"))) {
    if (std::chrono::steady_clock::now() >= deadline) {
      *error = "no upgrade.done within the time:\n" + err;
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_t successor = static_cast<pid_t>(std::stol(m[1]));
  if (!tg.process().WaitExit(within).has_value()) {
    *error = "the old process did not exit";
    StopSuccessor(successor);
    return -1;
  }
  return successor;
}

bool StopSuccessor(pid_t pid) {
  kill(pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return false;
}

}  // namespace tidegate::itest
