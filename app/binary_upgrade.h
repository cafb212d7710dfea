// Binary upgrade on SIGUSR2 (nginx's convention), the listening sockets
// handed over with SCM_RIGHTS (as HAProxy's -x and Envoy's hot restart do):
//
//   old process                              new process (same path, same argv)
//   SIGUSR2 → socketpair(SEQPACKET),
//   sockets written to it (listen_handover.h),
//   posix_spawn(exe, argv) with the other end
//   as fd 3, TIDEGATE_UPGRADE_FD=3 ──────────→ ReceiveFromPrevious(): adopts the
//                                            sockets of its configured addresses,
//                                            binds the rest, starts serving,
//   ← one byte "R" ────────────────────────── AnnounceServing()
//   drains (Worker::DrainMode::kHandover)
//   and exits
//
// The executable is the path /proc/self/exe named when this process started,
// so a binary replaced on disk (rename over it) is the one started. If the
// new process exits, closes the channel, or does not announce itself within
// kReadyTimeout (it is then killed), the old one logs why (exit status or
// signal; the child's own messages go to the same stderr) and keeps serving;
// SIGUSR2 may be sent again. A SIGUSR2 while one is in progress is refused.
//
// Contract: constructed in main() before any thread; every other method on
// the control thread. Outlives the Server it is given to. Children are
// reaped here, except a successor that serves: it outlives this process.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "proxy/libevent_handles.h"
#include "proxy/upgrade_agent.h"

namespace tidegate::app {

class BinaryUpgrade : public proxy::UpgradeAgent {
 public:
  static constexpr char kChannelEnv[] = "TIDEGATE_UPGRADE_FD";
  static constexpr int kChildChannelFd = 3;
  static constexpr std::chrono::seconds kReadyTimeout{30};
  static constexpr std::chrono::seconds kReceiveTimeout{10};

  // `argv`: this process's arguments (argv[0] included), used again as is.
  explicit BinaryUpgrade(std::vector<std::string> argv);
  ~BinaryUpgrade() override;
  BinaryUpgrade(const BinaryUpgrade&) = delete;
  BinaryUpgrade& operator=(const BinaryUpgrade&) = delete;

  // main(), before Server::Run(): when started by an upgrade (kChannelEnv
  // set), reads the handed-over sockets (the variable is removed so that
  // our own children do not see it). False + *error when the handover
  // failed; the process should then exit 1 (the old one keeps serving).
  bool ReceiveFromPrevious(std::string* error);
  bool started_by_upgrade() const { return parent_channel_ >= 0; }
  // `tidegate --pid-file`: AnnounceServing() writes this process's pid
  // there (app/pid_file.h). "" = none.
  void set_pid_file(std::string path) { pid_file_ = std::move(path); }

  // proxy::UpgradeAgent
  proxy::InheritedSockets& inherited() override { return inherited_; }
  void AnnounceServing(proxy::ErrorLog& log) override;
  bool Begin(event_base* control_base, const std::vector<proxy::ListenSocket>& sockets,
             proxy::ErrorLog& log, std::function<void()> on_serving) override;
  void Abandon() override;

 private:
  static void OnChannel(evutil_socket_t, short, void* arg);
  static void OnTimer(evutil_socket_t, short, void* arg);
  // posix_spawn of the executable with `child_end` as kChildChannelFd;
  // the pid, or -1 + *error.
  pid_t Spawn(int child_end, std::string* error) const;
  void Serving();
  // The child closed the channel without announcing itself: wait (a
  // bounded while) for its exit status, then Fail().
  void AwaitExit();
  void Fail(const std::string& why);
  void Reset();

  std::vector<std::string> argv_;
  std::string exe_path_;
  proxy::InheritedSockets inherited_;
  int parent_channel_ = -1;  // new process: the previous process's channel
  std::string pid_file_;

  // Old process: the upgrade in progress (child_ > 0).
  pid_t child_ = -1;
  int channel_ = -1;
  proxy::ErrorLog* log_ = nullptr;
  std::function<void()> on_serving_;
  proxy::EventPtr channel_event_;
  proxy::EventPtr timer_;
  bool awaiting_exit_ = false;
  int exit_polls_ = 0;
};

}  // namespace tidegate::app
