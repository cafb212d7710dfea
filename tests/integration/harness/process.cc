#include "tests/integration/harness/process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "tests/integration/harness/temp_dir.h"

namespace tidegate::itest {
namespace {

// Closes every descriptor >= 3 except `keep` in the child (async-signal-safe).
void CloseInheritedDescriptors(int keep) {
#ifdef SYS_close_range
  if (keep > 3) syscall(SYS_close_range, 3u, static_cast<unsigned>(keep - 1), 0u);
  if (syscall(SYS_close_range, static_cast<unsigned>(keep + 1), ~0u, 0u) == 0) return;
#endif
  long max_fd = sysconf(_SC_OPEN_MAX);
  for (int fd = 3; fd < max_fd; ++fd) {
    if (fd != keep) close(fd);
  }
}

}  // namespace

std::unique_ptr<Process> Process::Start(const ProcessOptions& options, std::string* error) {
  if (options.argv.empty()) {
    *error = "empty argv";
    return nullptr;
  }
  std::unique_ptr<Process> proc(new Process());
  std::string dir = options.log_dir.empty() ? "/tmp" : options.log_dir;
  proc->stdout_path_ = dir + "/" + options.name + ".stdout";
  proc->stderr_path_ = dir + "/" + options.name + ".stderr";

  // Everything the child needs is prepared before fork: after fork only
  // async-signal-safe calls are allowed (the test binary has threads).
  std::vector<char*> argv;
  for (const std::string& arg : options.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  int out_fd = open(proc->stdout_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err_fd = open(proc->stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int status_pipe[2];
  if (out_fd < 0 || err_fd < 0 || null_fd < 0 || pipe2(status_pipe, O_CLOEXEC) != 0) {
    *error = std::string("cannot prepare child: ") + strerror(errno);
    if (out_fd >= 0) close(out_fd);
    if (err_fd >= 0) close(err_fd);
    if (null_fd >= 0) close(null_fd);
    return nullptr;
  }
  struct rlimit limit {};
  bool set_limit = options.max_open_files.has_value();
  if (set_limit) {
    limit.rlim_cur = static_cast<rlim_t>(*options.max_open_files);
    limit.rlim_max = static_cast<rlim_t>(*options.max_open_files);
  }
  const char* cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();
  bool search_path = options.argv[0].find('/') == std::string::npos;

  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork: ") + strerror(errno);
    close(out_fd);
    close(err_fd);
    close(null_fd);
    close(status_pipe[0]);
    close(status_pipe[1]);
    return nullptr;
  }
  if (pid == 0) {
    // Child. Move the three standard streams into place, then drop the rest.
    dup2(null_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    CloseInheritedDescriptors(status_pipe[1]);
    // If the test binary dies (crash, ctest timeout), the child dies too
    // instead of holding its ports.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    int err = 0;
    if (cwd != nullptr && chdir(cwd) != 0) err = errno;
    if (err == 0 && set_limit && setrlimit(RLIMIT_NOFILE, &limit) != 0) err = errno;
    if (err == 0) {
      if (search_path) {
        execvp(argv[0], argv.data());
      } else {
        execv(argv[0], argv.data());
      }
      err = errno;
    }
    ssize_t ignored = write(status_pipe[1], &err, sizeof(err));
    (void)ignored;
    _exit(127);
  }
  close(out_fd);
  close(err_fd);
  close(null_fd);
  close(status_pipe[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = read(status_pipe[0], &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  close(status_pipe[0]);
  proc->pid_ = pid;
  if (n == static_cast<ssize_t>(sizeof(child_errno))) {
    *error = "cannot exec " + options.argv[0] + ": " + strerror(child_errno);
    proc->Reap(true);
    return nullptr;
  }
  return proc;
}

Process::~Process() {
  if (pid_ > 0 && !exit_status_) {
    kill(pid_, SIGKILL);
    Reap(true);
  }
}

bool Process::Reap(bool block) {
  if (exit_status_) return true;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) return false;
  if (WIFEXITED(status)) {
    exit_status_ = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    exit_status_ = 128 + WTERMSIG(status);
  } else {
    exit_status_ = -1;
  }
  return true;
}

bool Process::Signal(int sig) {
  if (pid_ <= 0 || exit_status_) return false;
  return kill(pid_, sig) == 0;
}

std::optional<int> Process::WaitExit(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!Reap(false)) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return exit_status_;
}

bool Process::Running() { return !Reap(false); }

std::string Process::Stdout() const { return ReadFile(stdout_path_); }
std::string Process::Stderr() const { return ReadFile(stderr_path_); }

}  // namespace tidegate::itest
