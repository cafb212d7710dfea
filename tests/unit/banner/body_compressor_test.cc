#include "banner/body_compressor.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>

#include "banner/gzip_response.h"
#include "tests/support/inflate.h"

namespace tidegate::banner {
namespace {

// Decodes one gzip stream; *ok = it ended (Z_STREAM_END).
std::string Gunzip(const std::string& data, bool* ok) {
  testing::Inflated result = testing::InflateAll(data, MAX_WBITS + 16);
  *ok = result.complete && result.trailing == 0;
  return result.bytes;
}

std::string Page(size_t filler, unsigned seed = 7) {
  std::string page = "<!doctype html><html><head><title>x</title></head><body class=\"x\">";
  std::mt19937 rng(seed);
  for (size_t i = 0; i < filler; ++i) page += static_cast<char>('a' + rng() % 8);
  return page + "</body></html>";
}

struct Result {
  std::string out;
  bool whole = false;
  bool ok = true;
  size_t emitted_before_end = 0;  // bytes passed on before the last piece
};

// `page` through a compressor in pieces of `piece` bytes (each its own
// evbuffer, as the stream hands them over).
Result Compress(const std::string& page, size_t piece, BodyTagInjector* injector,
                GzipWholeBody* whole, bool hold) {
  BodyCompressor compressor(1, injector, whole, hold);
  Result r;
  size_t at = 0;
  do {
    size_t n = std::min(piece, page.size() - at);
    bool end = at + n == page.size();
    proxy::EvbufferPtr buf(evbuffer_new());
    evbuffer_add(buf.get(), page.data() + at, n);
    r.ok = compressor.Process(buf.get(), end) && r.ok;
    std::string bytes(evbuffer_get_length(buf.get()), '\0');
    evbuffer_remove(buf.get(), bytes.data(), bytes.size());
    if (!end) r.emitted_before_end += bytes.size();
    r.out += bytes;
    at += n;
  } while (at < page.size());
  r.whole = compressor.compressed_whole();
  return r;
}

TEST(BodyCompressorTest, SmallPageIsEncodedWholeWithTheInsertionAtAnySplit) {
  GzipWholeBody whole;
  const std::string page = Page(20000);
  const size_t tag_end = page.find("class=\"x\">") + 10;
  for (size_t piece : {size_t{1} << 20, size_t{7000}, size_t{61}, size_t{3}}) {
    BodyTagInjector injector(std::string("<div>B</div>"));
    Result r = Compress(page, piece, &injector, &whole, true);
    ASSERT_TRUE(r.ok) << piece;
    EXPECT_TRUE(r.whole) << piece;
    EXPECT_EQ(r.emitted_before_end, 0u) << piece;  // held until the end
    bool complete = false;
    std::string decoded = Gunzip(r.out, &complete);
    EXPECT_TRUE(complete) << piece;
    EXPECT_EQ(decoded, page.substr(0, tag_end) + "<div>B</div>" + page.substr(tag_end)) << piece;
  }
}

TEST(BodyCompressorTest, WithoutInjectorTheBodyIsOnlyCompressed) {
  GzipWholeBody whole;
  const std::string json = "{\"items\": [" + std::string(5000, '1') + "]}";
  for (bool hold : {true, false}) {
    Result r = Compress(json, 1000, nullptr, hold ? &whole : nullptr, hold);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.whole, hold);
    bool complete = false;
    EXPECT_EQ(Gunzip(r.out, &complete), json) << hold;
    EXPECT_TRUE(complete) << hold;
  }
}

TEST(BodyCompressorTest, StreamingPassesEveryPieceOnAtOnce) {
  const std::string page = Page(50000);
  BodyTagInjector injector(std::string("<div>B</div>"));
  Result r = Compress(page, 4096, &injector, nullptr, false);
  ASSERT_TRUE(r.ok);
  EXPECT_FALSE(r.whole);
  // Z_SYNC_FLUSH per piece: what was sent before the last piece decodes to
  // everything before it.
  EXPECT_GT(r.emitted_before_end, 0u);
  bool complete = false;
  std::string decoded = Gunzip(r.out, &complete);
  EXPECT_TRUE(complete);
  EXPECT_EQ(decoded.size(), page.size() + 12);
  EXPECT_NE(decoded.find("class=\"x\"><div>B</div>"), std::string::npos);
}

TEST(BodyCompressorTest, HeldBodyPastTheBoundContinuesAsAStream) {
  GzipWholeBody whole;
  const std::string page = Page(kGzipWholeBytes + 50000);
  BodyTagInjector injector(std::string("<div>B</div>"));
  Result r = Compress(page, 32 * 1024, &injector, &whole, true);
  ASSERT_TRUE(r.ok);
  EXPECT_FALSE(r.whole);
  EXPECT_GT(r.emitted_before_end, 0u);
  bool complete = false;
  std::string decoded = Gunzip(r.out, &complete);
  EXPECT_TRUE(complete);
  const size_t tag_end = page.find("class=\"x\">") + 10;
  EXPECT_EQ(decoded, page.substr(0, tag_end) + "<div>B</div>" + page.substr(tag_end));
}

TEST(BodyCompressorTest, WorkerEncoderIsReusedAcrossPages) {
  GzipWholeBody whole;
  for (unsigned seed = 1; seed <= 3; ++seed) {
    const std::string page = Page(3000 * seed, seed);
    BodyTagInjector injector(std::string("<i>b</i>"));
    Result r = Compress(page, 1500, &injector, &whole, true);
    ASSERT_TRUE(r.ok && r.whole) << seed;
    bool complete = false;
    std::string decoded = Gunzip(r.out, &complete);
    EXPECT_TRUE(complete) << seed;
    EXPECT_EQ(decoded.size(), page.size() + 8) << seed;
  }
}

}  // namespace
}  // namespace tidegate::banner
