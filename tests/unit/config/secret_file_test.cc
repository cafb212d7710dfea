// config/secret_file.h: a secret read from a file loses the line ends that
// close the file, nothing else.
#include "config/secret_file.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace tidegate::config {
namespace {

TEST(SecretFileTest, TrailingLineEndsAreDroppedNothingElse) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("tidegate-secret-file-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto read = [&](const std::string& bytes) {
    std::string path = (dir / "secret").string();
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    std::string error;
    std::optional<std::string> secret = ReadSecretFile(path, &error);
    EXPECT_TRUE(secret) << error;
    return secret.value_or("(unreadable)");
  };
  EXPECT_EQ(read("key"), "key");
  EXPECT_EQ(read("key\n"), "key");
  EXPECT_EQ(read("key\r\n"), "key");
  EXPECT_EQ(read("key\n\r\n\n"), "key");
  EXPECT_EQ(read(" key \n"), " key ");
  EXPECT_EQ(read("a\nb\n"), "a\nb");
  EXPECT_EQ(read("\n"), "");
  EXPECT_EQ(read(""), "");

  std::string error;
  EXPECT_FALSE(ReadSecretFile((dir / "absent").string(), &error));
  EXPECT_NE(error.find("absent"), std::string::npos) << error;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tidegate::config
