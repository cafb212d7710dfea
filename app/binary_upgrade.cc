#include "app/binary_upgrade.h"

#include "app/pid_file.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace tidegate::app {
namespace {

constexpr char kServingByte = 'R';
constexpr char kDeletedSuffix[] = " (deleted)";
constexpr std::chrono::milliseconds kExitPoll{100};
constexpr int kExitPolls = 50;  // 5 s for a child that closed its channel to exit

std::string OwnExecutable() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  std::string path(buf, static_cast<size_t>(n));
  // Already replaced on disk when we looked: the path is what counts.
  const size_t suffix = sizeof(kDeletedSuffix) - 1;
  if (path.size() > suffix && path.compare(path.size() - suffix, suffix, kDeletedSuffix) == 0) {
    path.resize(path.size() - suffix);
  }
  return path;
}

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* name = sigabbrev_np(sig);
    return "was killed by signal " + std::to_string(sig) +
           (name != nullptr ? std::string(" (SIG") + name + ")" : "");
  }
  return "ended with wait status " + std::to_string(status);
}

timeval ToTv(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000),
                 static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

}  // namespace

BinaryUpgrade::BinaryUpgrade(std::vector<std::string> argv)
    : argv_(std::move(argv)), exe_path_(OwnExecutable()) {}

BinaryUpgrade::~BinaryUpgrade() {
  Abandon();
  if (parent_channel_ >= 0) close(parent_channel_);
}

bool BinaryUpgrade::ReceiveFromPrevious(std::string* error) {
  const char* value = getenv(kChannelEnv);
  if (value == nullptr) return true;
  char* end = nullptr;
  long fd = strtol(value, &end, 10);
  unsetenv(kChannelEnv);
  if (end == value || *end != '\0' || fd < 0 || fcntl(static_cast<int>(fd), F_GETFD) < 0) {
    *error = std::string("upgrade: ") + kChannelEnv + " does not name an open descriptor";
    return false;
  }
  parent_channel_ = static_cast<int>(fd);
  fcntl(parent_channel_, F_SETFD, FD_CLOEXEC);  // not for our own successor
  if (!proxy::ReceiveListenSockets(parent_channel_, kReceiveTimeout, &inherited_, error)) {
    *error = "upgrade: " + *error;
    return false;
  }
  return true;
}

void BinaryUpgrade::AnnounceServing(proxy::ErrorLog& log) {
  std::string error;
  if (!pid_file_.empty() && !WritePidFile(pid_file_, getpid(), &error)) {
    log.Write(proxy::LogLevel::kError, "server.pid_file", error);
  }
  if (parent_channel_ < 0) return;
  const pid_t previous = getppid();  // before it may exit
  char byte = kServingByte;
  if (send(parent_channel_, &byte, 1, MSG_NOSIGNAL) != 1) {
    log.Write(proxy::LogLevel::kWarn, "upgrade.announce",
              std::string("could not tell the previous process that this one serves: ") +
                  strerror(errno));
  } else {
    log.Write(proxy::LogLevel::kInfo, "upgrade.serving",
              "serving the sockets handed over by the previous process (pid " +
                  std::to_string(previous) + ")");
  }
  close(parent_channel_);
  parent_channel_ = -1;
}

pid_t BinaryUpgrade::Spawn(int child_end, std::string* error) const {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (strncmp(*e, kChannelEnv, sizeof(kChannelEnv) - 1) == 0 &&
        (*e)[sizeof(kChannelEnv) - 1] == '=') {
      continue;
    }
    env_strings.emplace_back(*e);
  }
  env_strings.push_back(std::string(kChannelEnv) + "=" + std::to_string(kChildChannelFd));
  std::vector<char*> env;
  for (std::string& s : env_strings) env.push_back(s.data());
  env.push_back(nullptr);
  std::vector<std::string> args = argv_;
  std::vector<char*> argv;
  for (std::string& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // child_end is never kChildChannelFd (Begin() moved it above 10), so dup2
  // gives the child a descriptor without FD_CLOEXEC.
  posix_spawn_file_actions_adddup2(&actions, child_end, kChildChannelFd);
  // Not every descriptor of ours is close-on-exec (libevent's outgoing
  // sockets are not): an inherited upstream socket would never close.
  posix_spawn_file_actions_addclosefrom_np(&actions, kChildChannelFd + 1);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGHUP, SIGTERM, SIGINT, SIGUSR2, SIGCHLD}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, exe_path_.c_str(), &actions, &attr, argv.data(), env.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    *error = "cannot start " + exe_path_ + ": " + strerror(rc);
    return -1;
  }
  return pid;
}

bool BinaryUpgrade::Begin(event_base* control_base, const std::vector<proxy::ListenSocket>& sockets,
                          proxy::ErrorLog& log, std::function<void()> on_serving) {
  if (child_ > 0) {
    log.Write(proxy::LogLevel::kWarn, "upgrade.refused",
              "SIGUSR2 ignored: an upgrade is already in progress (new process pid " +
                  std::to_string(child_) + ")");
    return false;
  }
  auto fail_now = [&](const std::string& why) {
    log.Write(proxy::LogLevel::kError, "upgrade.failed",
              "binary upgrade failed: " + why + "; this process keeps serving");
    return false;
  };
  if (exe_path_.empty()) return fail_now("the path of the running executable is unknown");
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return fail_now(std::string("socketpair: ") + strerror(errno));
  }
  int child_end = fcntl(pair[1], F_DUPFD_CLOEXEC, 10);
  close(pair[1]);
  std::string error;
  // Written before the child exists: it finds everything queued.
  if (child_end < 0 || !proxy::SendListenSockets(pair[0], sockets, &error)) {
    if (child_end < 0) error = std::string("fcntl: ") + strerror(errno);
    close(pair[0]);
    if (child_end >= 0) close(child_end);
    return fail_now(error);
  }
  pid_t pid = Spawn(child_end, &error);
  close(child_end);
  if (pid < 0) {
    close(pair[0]);
    return fail_now(error);
  }
  child_ = pid;
  channel_ = pair[0];
  log_ = &log;
  on_serving_ = std::move(on_serving);
  channel_event_.reset(
      event_new(control_base, channel_, EV_READ | EV_PERSIST, &BinaryUpgrade::OnChannel, this));
  event_add(channel_event_.get(), nullptr);
  timer_.reset(evtimer_new(control_base, &BinaryUpgrade::OnTimer, this));
  timeval tv = ToTv(kReadyTimeout);
  evtimer_add(timer_.get(), &tv);
  log.Write(proxy::LogLevel::kInfo, "upgrade.start",
            "SIGUSR2: started " + exe_path_ + " as pid " + std::to_string(pid) + " with " +
                std::to_string(sockets.size()) + " listening socket(s)");
  return true;
}

void BinaryUpgrade::OnChannel(evutil_socket_t fd, short, void* arg) {
  auto* self = static_cast<BinaryUpgrade*>(arg);
  char byte = 0;
  ssize_t n = recv(fd, &byte, 1, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n == 1 && byte == kServingByte) {
    self->Serving();
    return;
  }
  self->AwaitExit();
}

void BinaryUpgrade::Serving() {
  pid_t pid = child_;
  std::function<void()> on_serving = std::move(on_serving_);
  proxy::ErrorLog* log = log_;
  child_ = -1;  // it outlives us: not ours to reap
  Reset();
  log->Write(proxy::LogLevel::kInfo, "upgrade.done",
             "new process pid " + std::to_string(pid) + " serves; pid " + std::to_string(getpid()) +
                 " stops accepting and drains");
  on_serving();
}

void BinaryUpgrade::AwaitExit() {
  channel_event_.reset();
  if (channel_ >= 0) close(channel_);
  channel_ = -1;
  awaiting_exit_ = true;
  exit_polls_ = 0;
  OnTimer(-1, 0, this);
}

void BinaryUpgrade::OnTimer(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<BinaryUpgrade*>(arg);
  if (self->child_ <= 0) return;
  int status = 0;
  if (!self->awaiting_exit_) {  // kReadyTimeout
    kill(self->child_, SIGKILL);
    waitpid(self->child_, &status, 0);
    self->Fail("the new process did not report serving within " +
               std::to_string(kReadyTimeout.count()) + " s and was killed");
    return;
  }
  pid_t done = waitpid(self->child_, &status, WNOHANG);
  if (done == self->child_) {
    self->Fail("the new process " + DescribeStatus(status) +
               " before serving (its messages are on stderr)");
    return;
  }
  if (++self->exit_polls_ > kExitPolls) {
    kill(self->child_, SIGKILL);
    waitpid(self->child_, &status, 0);
    self->Fail("the new process closed the handover channel without serving and was killed");
    return;
  }
  timeval tv = ToTv(kExitPoll);
  evtimer_add(self->timer_.get(), &tv);
}

void BinaryUpgrade::Fail(const std::string& why) {
  pid_t pid = child_;
  proxy::ErrorLog* log = log_;
  child_ = -1;
  Reset();
  log->Write(proxy::LogLevel::kError, "upgrade.failed",
             "binary upgrade to " + exe_path_ + " (pid " + std::to_string(pid) +
                 ") failed: " + why + "; this process keeps serving");
}

void BinaryUpgrade::Abandon() {
  if (child_ > 0) {
    // Drain or shutdown while the new process starts: it must not end up
    // serving alone. It is told to stop (reaped if already gone).
    kill(child_, SIGTERM);
    int status = 0;
    waitpid(child_, &status, WNOHANG);
    if (log_ != nullptr) {
      log_->Write(proxy::LogLevel::kWarn, "upgrade.abandoned",
                  "binary upgrade abandoned (this process stops); new process pid " +
                      std::to_string(child_) + " told to stop");
    }
    child_ = -1;
  }
  Reset();
}

void BinaryUpgrade::Reset() {
  channel_event_.reset();
  timer_.reset();
  if (channel_ >= 0) close(channel_);
  channel_ = -1;
  on_serving_ = nullptr;
  awaiting_exit_ = false;
  exit_polls_ = 0;
}

}  // namespace tidegate::app
