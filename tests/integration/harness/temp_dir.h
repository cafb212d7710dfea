// A per-test scratch directory under $TMPDIR (or /tmp).
//
// Contract: the constructor creates a fresh, private directory (mkdtemp);
// the destructor removes it recursively unless the environment variable
// TIDEGATE_KEEP_TEST_DIRS is set (handy to read a failed test's logs).
// Not thread-safe; owned by one test.
#pragma once

#include <string>
#include <string_view>

namespace tidegate::itest {

class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "tidegate-itest");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string File(std::string_view name) const;
  // Writes `content` to File(name) (truncating); returns the full path.
  // Aborts the test binary (via gtest ADD_FAILURE + empty return) on error.
  std::string Write(std::string_view name, std::string_view content) const;

 private:
  std::string path_;
};

// Reads a whole file; "" when it does not exist.
std::string ReadFile(const std::string& path);

}  // namespace tidegate::itest
