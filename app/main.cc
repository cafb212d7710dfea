// tidegate — reverse proxy for online shops. Command line front end:
//   tidegate -c PATH            serve with the configuration at PATH
//   tidegate -c PATH --check    validate only
//   tidegate --version
//   tidegate ctl …              operator CLI over the admin API (ctl/ctl.h)
#include <event2/thread.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "app/admin_control_plane.h"
#include "app/binary_upgrade.h"
#include "app/config_checks.h"
#include "app/filter_chain.h"
#include "app/pid_file.h"
#include "app/state_persistence.h"
#include "common/time_source.h"
#include "config/loader.h"
#include "ctl/ctl.h"
#include "proxy/server.h"

namespace {

constexpr char kUsage[] =
    "usage: tidegate -c PATH [--check] [--pid-file FILE]\n"
    "       tidegate --version\n"
    "       tidegate ctl [--admin URL] [--token-file F] <command> ...\n"
    "\n"
    "  -c, --config PATH  a .toml file, or a directory of *.toml files merged in lexical order\n"
    "  --check            validate the configuration, print every error, exit 0 or 1\n"
    "  --pid-file FILE    write the pid of the serving process there (kept current by SIGUSR2)\n"
    "  --version          print the version and exit\n"
    "\n"
    "Signals: SIGHUP reloads the configuration, SIGTERM/SIGINT drain and exit,\n"
    "SIGUSR2 starts the binary again and hands it the listening sockets (binary upgrade).\n";

int UsageError(const std::string& message) {
  fprintf(stderr, "tidegate: %s\n\n%s", message.c_str(), kUsage);
  return 2;
}

// The configuration as start-up, `--check` and every SIGHUP see it: loaded
// and validated (config/loader.h), then what it names checked usable
// (app/config_checks.h), so the three accept and refuse the same files.
class FileConfigSource : public tidegate::proxy::ConfigSource {
 public:
  explicit FileConfigSource(std::string path) : path_(std::move(path)) {}
  std::shared_ptr<const tidegate::config::Config> Load(std::vector<std::string>* errors) override {
    tidegate::config::LoadResult result = tidegate::config::LoadConfig(path_);
    if (result.ok()) {
      std::vector<std::string> problems = tidegate::app::CheckConfigResources(*result.config);
      if (problems.empty()) return result.config;
      errors->insert(errors->end(), problems.begin(), problems.end());
      return nullptr;
    }
    for (const auto& error : result.errors) errors->push_back(tidegate::config::FormatError(error));
    if (errors->empty()) errors->push_back(path_ + ": configuration could not be loaded");
    return nullptr;
  }

 private:
  std::string path_;
};

// glibc gives a thread arena's free top back to the kernel (madvise) once it
// passes 128 KB, so a worker that frees a 24 KB response and allocates the
// next one faults the same pages in again: measured at ~45 % of the CPU per
// proxied 24 KB page (benches/RESULTS.md). Keeping up to 16 MB of free arena
// per thread, and serving blocks below 1 MB from the arenas, removes that
// churn; idle memory is unaffected (it is in use, not free). Before any thread.
void TuneAllocator() {
  mallopt(M_TRIM_THRESHOLD, 16 << 20);
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
}

}  // namespace

int main(int argc, char** argv) {
  auto started = std::chrono::steady_clock::now();
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "ctl") return tidegate::ctl::RunCtl(argc - 1, argv + 1);
  TuneAllocator();
  std::string config_path;
  bool check = false;
  std::string pid_file;
  bool version = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-c" || arg == "--config") {
      if (i + 1 >= args.size()) return UsageError(arg + " needs a PATH");
      if (!config_path.empty()) return UsageError("-c given twice");
      config_path = args[++i];
    } else if (arg == "--pid-file") {
      if (i + 1 >= args.size()) return UsageError(arg + " needs a FILE");
      pid_file = args[++i];
    } else if (arg == "--check") {
      check = true;
    } else if (arg == "--version" || arg == "-v") {
      version = true;
    } else if (arg == "-h" || arg == "--help") {
      fputs(kUsage, stdout);
      return 0;
    } else {
      return UsageError("unknown argument '" + arg + "'");
    }
  }
  if (version) {
    printf("tidegate %s\n", TIDEGATE_VERSION);
    return 0;
  }
  if (config_path.empty()) return UsageError("missing -c PATH");

  FileConfigSource source(config_path);
  std::vector<std::string> errors;
  std::shared_ptr<const tidegate::config::Config> config = source.Load(&errors);
  if (!config) {
    for (const std::string& error : errors) fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  // Warnings do not refuse the configuration (start-up and SIGHUP write
  // them to the error log, proxy/server.cc).
  if (check) {
    for (const std::string& warning : config->warnings) fprintf(stderr, "%s\n", warning.c_str());
    // What a start would meet in the saved state too (read only).
    auto state = tidegate::app::StatePersistence::Inspect(*config);
    for (const std::string& warning : state.warnings) {
      fprintf(stderr, "warning: %s\n", warning.c_str());
    }
    if (!state.errors.empty()) {
      for (const std::string& error : state.errors) fprintf(stderr, "%s\n", error.c_str());
      return 1;
    }
    printf("%s: configuration ok\n", config_path.c_str());
    return 0;
  }

  // The local state file ([state].path, docs/state.md): operators' switches
  // and rooms saved before a restart or a crash. An unusable one refuses the
  // start only with [state].on_corrupt = "refuse". Read now, written (and an
  // unusable one set aside) only once every listener is bound, below: a
  // second instance started by mistake on the same configuration fails on
  // its ports and leaves the running instance's files alone.
  std::string state_error;
  auto persistence = tidegate::app::StatePersistence::Open(*config, &state_error);
  if (!persistence) {
    fprintf(stderr, "tidegate: %s\n", state_error.c_str());
    return 1;
  }

  if (evthread_use_pthreads() != 0) {
    fprintf(stderr, "tidegate: libevent threading support is unavailable\n");
    return 1;
  }
  // Shop-local times on pages (banner "next update at 14:30", maintenance
  // end) use libc's localtime_r with the [site] zone, set once before any
  // thread starts; a reload that changes it is applied at the next restart.
  setenv("TZ", config->site.time_zone.c_str(), 1);
  tzset();
  // Operators' run-time state, published by the admin control plane and read
  // by the gates on every request; outlives the server and its workers.
  tidegate::proxy::Published<tidegate::state::RuntimeState> runtime_state(
      std::make_shared<const tidegate::state::RuntimeState>());
  // What /.tidegate/health reports as degraded: the operators' state store
  // (posted by the admin control plane) and the rooms' stores (probed).
  tidegate::proxy::HealthBoard health;
  // The one clock the features read (wall and monotonic); outlives them all.
  tidegate::common::RealTimeSource time;
  tidegate::app::TidegateFilterChain filters(started, &runtime_state, &health, time);
  tidegate::app::AdminControlPlane admin(&runtime_state, &health, &filters.rooms(),
                                         &filters.banner_stats(),
                                         &filters.maintenance_stats());  // outlives the server
  // SIGUSR2 (docs/operations.md, "Binary upgrade"); a process started by
  // one first takes the listening sockets its predecessor hands over.
  tidegate::app::BinaryUpgrade upgrade(std::vector<std::string>(argv, argv + argc));
  std::string upgrade_error;
  if (!upgrade.ReceiveFromPrevious(&upgrade_error)) {
    fprintf(stderr, "tidegate: %s\n", upgrade_error.c_str());
    return 1;
  }
  upgrade.set_pid_file(pid_file);
  filters.rooms().Restore(persistence->TakeRooms());
  filters.rooms().SeedShared(persistence->TakeSharedSeeds());
  filters.rooms().VoidWaitsIssuedBefore(persistence->WaitsValidFromMs());
  admin.SetPersistence(persistence.get());
  tidegate::proxy::Server server(source, filters, &admin);
  server.SetUpgradeAgent(&upgrade);
  server.SetBeforeServing([&](std::string*) {
    // Every listener is bound (or handed over): this process serves, and
    // owns the state folder from now on.
    persistence->Begin();
    // From here on this process may issue tickets: the file must no longer
    // say that the last stop was clean (a crash before the next save would
    // skip no numbers), and carries the least crash margin.
    std::string save_error;
    if (!persistence->SaveRooms(filters.rooms(), &save_error)) {
      fprintf(stderr,
              "tidegate: state: the rooms could not be saved at start (retried every second): "
              "%s\n",
              save_error.c_str());
    }
    return true;
  });
  int status = server.Run(config);
  // The workers are joined: the rooms' last progress goes to disk (nothing
  // when the start failed before Begin(): the files are another's).
  std::string save_error;
  if (!persistence->SaveRooms(filters.rooms(), &save_error, /*final=*/true)) {
    fprintf(stderr, "tidegate: state: the rooms could not be saved at exit: %s\n",
            save_error.c_str());
  }
  if (!persistence->SaveSharedRooms(filters.rooms(), &save_error)) {
    fprintf(stderr, "tidegate: state: the rooms' counters could not be saved at exit: %s\n",
            save_error.c_str());
  }
  if (!pid_file.empty()) tidegate::app::RemovePidFileIfOwn(pid_file, getpid());
  // The rooms' Redis connections live on the workers' event loops: close
  // them now that the workers are joined, before ~Server frees the loops.
  filters.rooms().CloseConnections();
  return status;
}
