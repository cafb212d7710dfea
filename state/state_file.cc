#include "state/state_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tidegate::state {

namespace {

std::string Reason(const std::string& what, const std::string& path, int error_number) {
  return what + " " + path + ": " + strerror(error_number);
}

std::string FolderOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

bool WriteAll(int fd, std::string_view contents) {
  while (!contents.empty()) {
    ssize_t n = write(fd, contents.data(), contents.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    contents.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// fsync of the folder makes the rename (a change of the folder) durable.
bool SyncFolder(const std::string& folder, std::string* error) {
  int fd = open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    *error = Reason("cannot open folder", folder, errno);
    return false;
  }
  bool ok = fsync(fd) == 0;
  if (!ok) *error = Reason("cannot fsync folder", folder, errno);
  close(fd);
  return ok;
}

}  // namespace

StateFile::ReadResult StateFile::Read() const {
  ReadResult result;
  int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return result;  // kMissing
    result.status = ReadStatus::kError;
    result.error = Reason("cannot open", path_, errno);
    return result;
  }
  char buffer[16384];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      result.status = ReadStatus::kError;
      result.error = Reason("cannot read", path_, errno);
      close(fd);
      return result;
    }
    if (n == 0) break;
    result.text.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  result.status = ReadStatus::kRead;
  return result;
}

bool StateFile::Write(std::string_view contents, std::string* error) const {
  std::string temporary = path_ + ".tmp-" + std::to_string(getpid());
  int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = Reason("cannot create", temporary, errno);
    return false;
  }
  bool ok = WriteAll(fd, contents);
  if (!ok) *error = Reason("cannot write", temporary, errno);
  if (ok && fsync(fd) != 0) {
    *error = Reason("cannot fsync", temporary, errno);
    ok = false;
  }
  if (close(fd) != 0 && ok) {
    *error = Reason("cannot close", temporary, errno);
    ok = false;
  }
  if (ok && keep_previous_) {
    // The version being replaced becomes .prev (best effort: no link, no
    // .prev; ENOENT: a first write).
    std::string link_name = previous_path() + ".tmp-" + std::to_string(getpid());
    unlink(link_name.c_str());
    if (link(path_.c_str(), link_name.c_str()) == 0 &&
        rename(link_name.c_str(), previous_path().c_str()) != 0) {
      unlink(link_name.c_str());
    }
  }
  if (ok && rename(temporary.c_str(), path_.c_str()) != 0) {
    *error = Reason("cannot rename " + temporary + " to", path_, errno);
    ok = false;
  }
  if (!ok) {
    unlink(temporary.c_str());
    return false;
  }
  return SyncFolder(FolderOf(path_), error);
}

std::string StateFile::SetAside(int64_t unix_time, std::string* error) const {
  std::string base = path_ + ".corrupt-" + std::to_string(unix_time);
  std::string target = base;
  struct stat st;
  for (int n = 1; lstat(target.c_str(), &st) == 0 && n < 1000; ++n) {
    target = base + "." + std::to_string(n);
  }
  if (rename(path_.c_str(), target.c_str()) != 0) {
    *error = Reason("cannot rename " + path_ + " to", target, errno);
    return "";
  }
  std::string ignored;
  SyncFolder(FolderOf(path_), &ignored);
  return target;
}

bool EnsureStateFolder(const std::string& folder, std::string* error) {
  struct stat st;
  if (stat(folder.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return true;
    *error = "state folder " + folder + ": exists and is not a folder";
    return false;
  }
  // Create missing parents first (mkdir -p), each with mode 0700.
  size_t slash = folder.find('/', 1);
  while (slash != std::string::npos) {
    std::string parent = folder.substr(0, slash);
    if (mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST) {
      *error = Reason("state folder: cannot create", parent, errno);
      return false;
    }
    slash = folder.find('/', slash + 1);
  }
  if (mkdir(folder.c_str(), 0700) != 0 && errno != EEXIST) {
    *error = Reason("state folder: cannot create", folder, errno);
    return false;
  }
  return true;
}

}  // namespace tidegate::state
