// proxy/byte_scan.h against the byte-at-a-time definitions: every byte
// value at every position of a word, among neighbours that are in no class
// and among neighbours that are (borrows and carries between bytes must not
// change the answer), plus the scans built on it.
#include "proxy/byte_scan.h"

#include <gtest/gtest.h>

#include <string>

#include "proxy/http1_validate.h"
#include "proxy/path_normalizer.h"

namespace tidegate::proxy {
namespace {

using namespace bytescan;

TEST(ByteScanTest, EveryByteAtEveryPosition) {
  for (unsigned char filler : {static_cast<unsigned char>('a'), static_cast<unsigned char>(0x00),
                               static_cast<unsigned char>(0xff), static_cast<unsigned char>(0x7f),
                               static_cast<unsigned char>(0x21)}) {
    for (int position = 0; position < 8; ++position) {
      for (int b = 0; b < 256; ++b) {
        char word[8];
        std::memset(word, filler, sizeof word);
        word[position] = static_cast<char>(b);
        uint64_t v = Load8(word);
        bool zero = false, hash = false, less = false, more = false;
        for (unsigned char c : std::string_view(word, 8)) {
          zero = zero || c == 0;
          hash = hash || c == '#';
          less = less || c < 0x21;
          more = more || c > 0x7e;
        }
        EXPECT_EQ(HasZero(v), zero) << int(filler) << " " << position << " " << b;
        EXPECT_EQ(HasByte(v, '#'), hash) << int(filler) << " " << position << " " << b;
        EXPECT_EQ(HasLess(v, 0x21), less) << int(filler) << " " << position << " " << b;
        EXPECT_EQ(HasMore(v, 0x7e), more) << int(filler) << " " << position << " " << b;
      }
    }
  }
}

TEST(ByteScanTest, ExactMasksMarkExactlyTheMatchingBytes) {
  for (unsigned char filler :
       {static_cast<unsigned char>(0x00), static_cast<unsigned char>('/'),
        static_cast<unsigned char>(0xff), static_cast<unsigned char>(0x80)}) {
    for (int position = 0; position < 8; ++position) {
      for (int b = 0; b < 256; ++b) {
        char word[8];
        std::memset(word, filler, sizeof word);
        word[position] = static_cast<char>(b);
        uint64_t zeros = 0, slashes = 0;
        for (int i = 0; i < 8; ++i) {
          unsigned char c = static_cast<unsigned char>(word[i]);
          // Little-endian: byte i of the string is byte i of the word.
          if (c == 0) zeros |= uint64_t{0x80} << (8 * i);
          if (c == '/') slashes |= uint64_t{0x80} << (8 * i);
        }
        EXPECT_EQ(ZeroBytes(Load8(word)), zeros) << int(filler) << " " << position << " " << b;
        EXPECT_EQ(BytesEqual(Load8(word), '/'), slashes)
            << int(filler) << " " << position << " " << b;
      }
    }
  }
}

TEST(ByteScanTest, TargetCharsAtEveryOffsetAndLength) {
  std::string good = "/collections/summer-sale/products/linen-shirt-blue?size=42&x=%20";
  EXPECT_TRUE(http1::IsValidTargetChars(good));
  for (size_t at = 0; at < good.size(); ++at) {
    for (char bad : {' ', '#', '\x7f', '\x80', '\x01', '\t'}) {
      std::string t = good;
      t[at] = bad;
      EXPECT_FALSE(http1::IsValidTargetChars(t)) << at << " " << int(bad);
      EXPECT_TRUE(http1::IsValidTargetChars(t.substr(0, at))) << at;
    }
  }
}

TEST(ByteScanTest, NormalizePathViewCopiesOnlyWhatItChanges) {
  std::string storage;
  std::string target = "/collections/summer-sale/products/linen-shirt-blue?size=42";
  std::string_view path = NormalizePathView(target, &storage);
  EXPECT_EQ(path, "/collections/summer-sale/products/linen-shirt-blue");
  EXPECT_EQ(path.data(), target.data()) << "a canonical path is a view of the target";
  EXPECT_TRUE(storage.empty());
  std::string odd = "/collections//summer-sale/./products/%6Cinen;jsessionid=1";
  path = NormalizePathView(odd, &storage);
  EXPECT_EQ(path, NormalizePath(odd));
  EXPECT_EQ(path.data(), storage.data());
}

}  // namespace
}  // namespace tidegate::proxy
