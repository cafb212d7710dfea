// Starts the real tidegate binary for one test.
//
// Contract:
// * The config is TOML text with placeholders that Start() fills in:
//   ${PORT} (a probed free loopback port for [server].listen),
//   ${TLS_PORT} (another one, for [server.tls].listen), ${ADMIN_PORT}
//   (another one, so no test ever uses the fixed default 9901) and ${DIR}
//   (the test's temp dir, for certificate and log paths).
// * Start() writes <dir>/<options.name>.toml, runs `tidegate -c <it>`,
//   and waits until 127.0.0.1:${PORT} accepts a TCP connection (and the TLS
//   port, when the config uses ${TLS_PORT}). nullptr + *error (with the
//   child's stderr) when the process exits or the port never accepts.
//   When tidegate reports a port "in use" (a probed port was taken in the
//   meantime), Start() retries with fresh ports, up to 3 attempts.
// * RewriteConfig() replaces the file (same placeholders, same ports,
//   atomic rename); Reload() sends SIGHUP. Stop() sends SIGTERM and waits.
// * Test thread only. `dir` must outlive the TidegateProcess. Destructor:
//   SIGKILL + reap (via Process).
#pragma once

#include <chrono>
#include <csignal>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/harness/process.h"
#include "tests/integration/harness/temp_dir.h"

namespace tidegate::itest {

// Path of the tidegate binary under test (TIDEGATE_BINARY).
std::string TidegateBinary();

struct TidegateOptions {
  std::string config;                  // TOML with placeholders
  std::optional<long> max_open_files;  // RLIMIT_NOFILE for the child
  std::chrono::milliseconds ready_timeout{20000};
  std::string name = "tidegate";        // log file stem
  std::string binary;                   // the executable; "" = TidegateBinary()
  std::vector<std::string> extra_args;  // after "-c <config>"
};

class TidegateProcess {
 public:
  static std::unique_ptr<TidegateProcess> Start(const TempDir& dir, const TidegateOptions& options,
                                                std::string* error);

  uint16_t port() const { return port_; }
  uint16_t tls_port() const { return tls_port_; }
  uint16_t admin_port() const { return admin_port_; }
  pid_t pid() const { return process_->pid(); }
  Process& process() { return *process_; }
  const std::string& config_path() const { return config_path_; }
  std::string Stderr() const { return process_->Stderr(); }
  std::string Stdout() const { return process_->Stdout(); }

  // Writes a new config (placeholders filled with this instance's ports).
  bool RewriteConfig(const std::string& toml);
  bool Reload() { return process_->Signal(SIGHUP); }
  // SIGTERM, then waits for the exit status (nullopt on timeout).
  std::optional<int> Stop(std::chrono::milliseconds timeout);

  // Placeholder substitution used by Start and RewriteConfig.
  std::string Fill(const std::string& toml) const;

 private:
  TidegateProcess() = default;
  static std::unique_ptr<TidegateProcess> StartOnce(const TempDir& dir,
                                                    const TidegateOptions& options,
                                                    std::string* error);
  const TempDir* dir_ = nullptr;
  std::unique_ptr<Process> process_;
  std::string config_path_;
  uint16_t port_ = 0;
  uint16_t tls_port_ = 0;
  uint16_t admin_port_ = 0;
};

// Starts tidegate or records a gtest failure (with stderr) and returns nullptr.
std::unique_ptr<TidegateProcess> StartTidegateOrFail(const TempDir& dir,
                                                     const TidegateOptions& options);

// Binary upgrade in place: SIGUSR2 to `tg`, then waits (each up to
// `within`) for "upgrade.done: new process pid N serves" and for `tg` to
// exit. Returns N — the caller must be the new process's reaper
// (prctl(PR_SET_CHILD_SUBREAPER, 1) before the signal) and stop it with
// StopSuccessor() — or -1 and *error.
pid_t UpgradeInPlace(TidegateProcess& tg, std::chrono::milliseconds within, std::string* error);
// SIGTERM to a process UpgradeInPlace() started, reaped within 15 s, else
// SIGKILL: false then.
bool StopSuccessor(pid_t pid);

// A minimal config for the integration tests: one worker, short deadlines
// (header_timeout 2s, body_timeout 5s, keepalive_timeout 10s, send_timeout
// 5s, drain_timeout 5s; upstream connect_timeout 1s, response_timeout 5s,
// read_timeout 5s), upstream = 127.0.0.1:origin_port, admin on
// ${ADMIN_PORT}. `server_keys` / `upstream_keys` replace or add keys of
// [server] / [upstream] (values are TOML text: "\"1s\"", "2", "[...]").
// `tail` is appended at the end (e.g. a [server.tls] table).
using KeyValues = std::vector<std::pair<std::string, std::string>>;
std::string ProxyConfig(uint16_t origin_port, const KeyValues& server_keys = {},
                        const KeyValues& upstream_keys = {}, const std::string& tail = "");

}  // namespace tidegate::itest
