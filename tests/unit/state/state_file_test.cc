// state/state_file.h on a real temporary folder: atomic replacement, the
// permissions, a missing file, an unreadable one, setting a file aside.
#include "state/state_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace tidegate::state {
namespace {

namespace fs = std::filesystem;

class StateFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/state-file-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST_F(StateFileTest, MissingFileIsAFirstStart) {
  StateFile file(dir_ + "/runtime_state.json");
  StateFile::ReadResult r = file.Read();
  EXPECT_EQ(r.status, StateFile::ReadStatus::kMissing);
  EXPECT_TRUE(r.text.empty());
}

TEST_F(StateFileTest, WriteReplacesTheWholeFileWithMode0600AndNoTemporaryLeft) {
  StateFile file(dir_ + "/rooms.json");
  std::string error;
  ASSERT_TRUE(file.Write(std::string(100'000, 'a'), &error)) << error;
  ASSERT_TRUE(file.Write("second", &error)) << error;
  StateFile::ReadResult r = file.Read();
  ASSERT_EQ(r.status, StateFile::ReadStatus::kRead);
  EXPECT_EQ(r.text, "second");
  struct stat st;
  ASSERT_EQ(stat(file.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir_)) {
    ++entries;
    EXPECT_EQ(e.path().filename(), "rooms.json");
  }
  EXPECT_EQ(entries, 1);
}

TEST_F(StateFileTest, KeepPreviousLeavesTheReplacedVersionAsPrev) {
  StateFile file(dir_ + "/rooms.json", /*keep_previous=*/true);
  EXPECT_EQ(file.previous_path(), dir_ + "/rooms.json.prev");
  std::string error;
  ASSERT_TRUE(file.Write("one", &error)) << error;
  EXPECT_FALSE(fs::exists(file.previous_path())) << "a first write has nothing to keep";
  ASSERT_TRUE(file.Write("two", &error)) << error;
  ASSERT_TRUE(file.Write("three", &error)) << error;
  EXPECT_EQ(file.Read().text, "three");
  StateFile previous(file.previous_path());
  EXPECT_EQ(previous.Read().text, "two");
  struct stat st;
  ASSERT_EQ(stat(file.previous_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir_)) {
    ++entries;
    (void)e;
  }
  EXPECT_EQ(entries, 2) << "no temporary left";
}

TEST_F(StateFileTest, AFailedWriteKeepsThePreviousFile) {
  StateFile file(dir_ + "/f.json");
  std::string error;
  ASSERT_TRUE(file.Write("old", &error));
  // A folder where the temporary file should go makes the write fail.
  fs::create_directory(file.path() + ".tmp-" + std::to_string(getpid()));
  EXPECT_FALSE(file.Write("new", &error));
  EXPECT_NE(error.find("f.json.tmp-"), std::string::npos) << error;
  EXPECT_EQ(file.Read().text, "old");
}

TEST_F(StateFileTest, SetAsideRenamesWithTheTimeAndNeverOverwrites) {
  StateFile file(dir_ + "/f.json");
  std::string error;
  ASSERT_TRUE(file.Write("bad 1", &error));
  std::string first = file.SetAside(1700000000, &error);
  EXPECT_EQ(first, dir_ + "/f.json.corrupt-1700000000") << error;
  ASSERT_TRUE(file.Write("bad 2", &error));
  std::string second = file.SetAside(1700000000, &error);
  EXPECT_EQ(second, dir_ + "/f.json.corrupt-1700000000.1") << error;
  EXPECT_EQ(file.Read().status, StateFile::ReadStatus::kMissing);
  EXPECT_EQ(StateFile(first).Read().text, "bad 1");
  EXPECT_EQ(StateFile(second).Read().text, "bad 2");
}

TEST_F(StateFileTest, UnreadableFileIsAnErrorNamingIt) {
  StateFile file(dir_ + "/f.json");
  fs::create_directory(file.path());  // read() on a folder fails with EISDIR
  StateFile::ReadResult r = file.Read();
  EXPECT_EQ(r.status, StateFile::ReadStatus::kError);
  EXPECT_NE(r.error.find(file.path()), std::string::npos) << r.error;
}

TEST_F(StateFileTest, EnsureStateFolderCreatesParentsWithMode0700) {
  std::string error;
  std::string folder = dir_ + "/a/b/state";
  ASSERT_TRUE(EnsureStateFolder(folder, &error)) << error;
  struct stat st;
  ASSERT_EQ(stat(folder.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_TRUE(EnsureStateFolder(folder, &error)) << "an existing folder is fine";
  std::ofstream(dir_ + "/plain") << "x";
  EXPECT_FALSE(EnsureStateFolder(dir_ + "/plain", &error));
  EXPECT_NE(error.find("is not a folder"), std::string::npos) << error;
}

}  // namespace
}  // namespace tidegate::state
