#include "banner/body_recoder.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>
#include <vector>
#include "tests/support/inflate.h"

namespace tidegate::banner {
namespace {

std::string Compress(const std::string& data, int window_bits) {
  z_stream s{};
  deflateInit2(&s, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&s, data.size()) + 64, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.avail_in = data.size();
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = out.size();
  EXPECT_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

// Decodes gzip or zlib (auto); "" + *ok=false on error or a truncated stream.
std::string Decompress(const std::string& data, bool* ok) {
  testing::Inflated result = testing::InflateAll(data, MAX_WBITS + 32);
  *ok = result.complete;
  return result.bytes;
}

std::string Page(size_t filler) {
  std::string page = "<!doctype html><html><head><title>x</title></head><body class=\"x\">";
  std::mt19937 rng(7);
  for (size_t i = 0; i < filler; ++i) page += static_cast<char>('a' + rng() % 26);
  return page + "</body></html>";
}

// Pushes `encoded` through a recoder in pieces of `piece` bytes.
// `whole`: the worker's whole-body recoder, or null (zlib streaming only).
std::string Recode(const std::string& encoded, BodyRecoder::Coding coding, size_t piece, bool* ok,
                   BodyTagInjector* injector, GzipWholeBody* whole = nullptr) {
  BodyRecoder recoder(coding, 1, injector, whole);
  std::string out;
  proxy::EvbufferPtr buf(evbuffer_new());
  *ok = true;
  for (size_t at = 0; at <= encoded.size(); at += piece) {
    std::string part = encoded.substr(at, piece);
    bool last = at + piece >= encoded.size();
    evbuffer_add(buf.get(), part.data(), part.size());
    *ok = recoder.Process(buf.get(), last) && *ok;
    std::string got(evbuffer_get_length(buf.get()), '\0');
    evbuffer_remove(buf.get(), got.data(), got.size());
    out += got;
    if (last) break;
  }
  return out;
}

std::string Expected(const std::string& page) {
  std::string expected = page;
  expected.insert(expected.find("<body class=\"x\">") + 16, "[B]");
  return expected;
}

// Every case runs twice: zlib streaming only, and with the worker's
// whole-body recoder (libdeflate for small gzip bodies, zlib otherwise);
// the results must be the same.
class BodyRecoderTest : public ::testing::TestWithParam<bool> {
 protected:
  GzipWholeBody* Whole() { return GetParam() ? &whole_ : nullptr; }
  // A body that does not decode: streaming (zlib only), refused, never
  // completed; held whole (a small gzip body, WholeBody), nothing had gone
  // out and the origin's bytes go out as they came (passed_as_is): the
  // client's decoder judges them as it would without tidegate.
  void ExpectRefusedOrAsIs(bool ok, const std::string& out, const std::string& input) {
    if (GetParam()) {
      EXPECT_TRUE(ok);
      EXPECT_TRUE(out == input) << "held whole: the origin's bytes as they came";
      return;
    }
    EXPECT_FALSE(ok);
    bool decoded = true;
    Decompress(out, &decoded);
    EXPECT_FALSE(decoded) << "a corrupt origin body became a well-formed one";
  }
  GzipWholeBody whole_;  // reused across the recoders of a case, as on a worker
};

INSTANTIATE_TEST_SUITE_P(ZlibAndWholeBody, BodyRecoderTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("WholeBody") : std::string("Zlib");
                         });

TEST_P(BodyRecoderTest, GzipRoundTripInPiecesOfEverySize) {
  std::string page = Page(100000);
  std::string gz = Compress(page, MAX_WBITS + 16);
  for (size_t piece : {1ul, 7ul, 100ul, 4096ul, 1ul << 20}) {
    BodyTagInjector injector("[B]");
    bool ok = false;
    std::string out = Recode(gz, BodyRecoder::Coding::kGzip, piece, &ok, &injector, Whole());
    ASSERT_TRUE(ok) << piece;
    EXPECT_EQ(out.substr(0, 2), "\x1f\x8b");  // still gzip
    bool decoded = false;
    EXPECT_EQ(Decompress(out, &decoded), Expected(page)) << piece;
    EXPECT_TRUE(decoded);
    EXPECT_TRUE(injector.found());
  }
}

TEST_P(BodyRecoderTest, DeflateZlibAndRaw) {
  std::string page = Page(5000);
  for (int bits : {MAX_WBITS, -MAX_WBITS}) {
    BodyTagInjector injector("[B]");
    bool ok = false;
    std::string out =
        Recode(Compress(page, bits), BodyRecoder::Coding::kDeflate, 333, &ok, &injector, Whole());
    ASSERT_TRUE(ok) << bits;
    bool decoded = false;
    EXPECT_EQ(Decompress(out, &decoded), Expected(page)) << bits;  // re-encoded as zlib
    EXPECT_TRUE(decoded);
  }
}

TEST_P(BodyRecoderTest, SeveralGzipMembers) {
  std::string a = "<html><body class=\"x\">first ", b = "second</body></html>";
  std::string gz = Compress(a, MAX_WBITS + 16) + Compress(b, MAX_WBITS + 16);
  BodyTagInjector injector("[B]");
  bool ok = false;
  std::string out = Recode(gz, BodyRecoder::Coding::kGzip, 10, &ok, &injector, Whole());
  ASSERT_TRUE(ok);
  bool decoded = false;
  EXPECT_EQ(Decompress(out, &decoded), "<html><body class=\"x\">[B]first second</body></html>");
}

// Padding after the last member (NUL bytes, a newline: gzip(1) and browsers
// ignore it) is ignored, in one piece or byte by byte (audit 17: the
// banner's 502 for pages curl and browsers show); a second member that
// starts as one (0x1f 0x8b) and does not decode is still an error.
TEST_P(BodyRecoderTest, PaddingAfterTheLastMemberIsIgnored) {
  std::string page = Page(3000);
  std::string gz = Compress(page, MAX_WBITS + 16);
  for (const std::string& padding :
       {std::string(8, '\0'), std::string("\n"), std::string("\r\n"), std::string("not gzip")}) {
    for (size_t piece : {1ul, 5ul, 1ul << 20}) {
      BodyTagInjector injector("[B]");
      bool ok = false;
      std::string out =
          Recode(gz + padding, BodyRecoder::Coding::kGzip, piece, &ok, &injector, Whole());
      ASSERT_TRUE(ok) << padding.size() << " bytes of padding, pieces of " << piece;
      bool decoded = false;
      EXPECT_EQ(Decompress(out, &decoded), Expected(page));
      EXPECT_TRUE(decoded);
    }
  }
  BodyTagInjector injector("[B]");
  bool ok = true;
  std::string bad = gz + "\x1f\x8b\x08garbage-not-a-member";
  std::string out = Recode(bad, BodyRecoder::Coding::kGzip, 7, &ok, &injector, Whole());
  ExpectRefusedOrAsIs(ok, out, bad);
}

// Pushes `parts` through one recoder, one Process() call each (the last one
// ends the stream); *ok is false when any call failed.
std::string RecodeParts(const std::vector<std::string>& parts, bool* ok, BodyTagInjector* injector,
                        GzipWholeBody* whole = nullptr) {
  BodyRecoder recoder(BodyRecoder::Coding::kGzip, 1, injector, whole);
  std::string out;
  proxy::EvbufferPtr buf(evbuffer_new());
  *ok = true;
  for (size_t i = 0; i < parts.size(); ++i) {
    evbuffer_add(buf.get(), parts[i].data(), parts[i].size());
    *ok = recoder.Process(buf.get(), i + 1 == parts.size()) && *ok;
    std::string got(evbuffer_get_length(buf.get()), '\0');
    evbuffer_remove(buf.get(), got.data(), got.size());
    out += got;
  }
  return out;
}

TEST_P(BodyRecoderTest, GzipMembersInOnePieceAndInSeparatePieces) {
  std::string a = "<html><body class=\"x\">first ", b = "second</body></html>";
  std::string ga = Compress(a, MAX_WBITS + 16), gb = Compress(b, MAX_WBITS + 16);
  const std::string want = "<html><body class=\"x\">[B]first second</body></html>";
  std::vector<std::vector<std::string>> splits = {
      {ga + gb},                                                     // both members in one piece
      {ga, gb},                                                      // each member its own read
      {ga, gb, ""},                                                  // end of stream comes empty
      {ga.substr(0, ga.size() - 4), ga.substr(ga.size() - 4) + gb},  // split in the trailer
      {ga.substr(0, ga.size() - 1), ga.substr(ga.size() - 1), gb},   // last trailer byte alone
      {ga + gb.substr(0, 3), gb.substr(3)},                          // split inside the next header
  };
  for (size_t i = 0; i < splits.size(); ++i) {
    BodyTagInjector injector("[B]");
    bool ok = false;
    std::string out = RecodeParts(splits[i], &ok, &injector, Whole());
    ASSERT_TRUE(ok) << i;
    bool decoded = false;
    EXPECT_EQ(Decompress(out, &decoded), want) << i;
    EXPECT_TRUE(decoded) << i;
  }
}

TEST_P(BodyRecoderTest, CorruptSecondMemberIsNeverCompleted) {
  std::string ga = Compress("<html><body class=\"x\">first ", MAX_WBITS + 16);
  std::string gb = Compress(Page(20000), MAX_WBITS + 16);
  gb[gb.size() / 2] ^= 0x55;
  gb[gb.size() / 2 + 1] ^= 0x55;
  // (Bytes that do not start as a member are padding, ignored:
  // PaddingAfterTheLastMemberIsIgnored.)
  for (const std::string& junk : {gb}) {
    BodyTagInjector injector("[B]");
    bool ok = true;
    std::string out = RecodeParts({ga, junk}, &ok, &injector, Whole());
    ExpectRefusedOrAsIs(ok, out, ga + junk);
  }
}

TEST_P(BodyRecoderTest, CorruptInputIsNeverCompleted) {
  std::string gz = Compress(Page(20000), MAX_WBITS + 16);
  gz[gz.size() / 2] ^= 0x55;
  gz[gz.size() / 2 + 1] ^= 0x55;
  BodyTagInjector injector("[B]");
  bool ok = true;
  std::string out = Recode(gz, BodyRecoder::Coding::kGzip, 512, &ok, &injector, Whole());
  ExpectRefusedOrAsIs(ok, out, gz);
}

TEST_P(BodyRecoderTest, TruncatedInputIsNeverCompleted) {
  std::string gz = Compress(Page(20000), MAX_WBITS + 16);
  gz.resize(gz.size() / 2);
  BodyTagInjector injector("[B]");
  bool ok = true;
  std::string out = Recode(gz, BodyRecoder::Coding::kGzip, 512, &ok, &injector, Whole());
  ExpectRefusedOrAsIs(ok, out, gz);
}

// A compression bomb (16 MB of zeros in ~16 KB) is refused after about
// 1 MiB decoded, as a corrupt body is (audit 17: a 1 GB bomb held one
// worker for seconds); every output piece stays small meanwhile.
// (Held whole, it goes out as the origin sent it: ExpectRefusedOrAsIs.)
TEST_P(BodyRecoderTest, CompressionBombIsRefusedEarly) {
  std::string zeros = "<html><body class=\"x\">" + std::string(16 << 20, '0');
  std::string gz = Compress(zeros, MAX_WBITS + 16);
  BodyTagInjector injector("[B]");
  BodyRecoder recoder(BodyRecoder::Coding::kGzip, 1, &injector, Whole());
  proxy::EvbufferPtr buf(evbuffer_new());
  size_t biggest = 0;
  bool refused = false;
  for (size_t at = 0; at < gz.size() && !refused; at += 4096) {
    std::string part = gz.substr(at, 4096);
    evbuffer_add(buf.get(), part.data(), part.size());
    refused = !recoder.Process(buf.get(), at + 4096 >= gz.size());
    biggest = std::max(biggest, evbuffer_get_length(buf.get()));
    evbuffer_drain(buf.get(), evbuffer_get_length(buf.get()));
  }
  // Held whole (WholeBody: 16 KB), the bomb goes out as the origin sent it.
  EXPECT_EQ(refused, !GetParam());
  EXPECT_EQ(recoder.passed_as_is(), GetParam());
  EXPECT_LT(biggest, 1u << 20);
}

// Very repetitive HTML (a 6 MB listing of near-identical rows, ~100x) is
// no bomb: recoded whole.
TEST_P(BodyRecoderTest, RepetitiveHtmlIsNoBomb) {
  std::string page = "<html><body class=\"x\"><table>";
  for (int i = 0; page.size() < (6u << 20); ++i) {
    page += "<tr><td class=\"sku\">item-" + std::to_string(i % 1000) +
            "</td><td class=\"price\">9.99</td></tr>\n";
  }
  page += "</table></body></html>";
  std::string gz = Compress(page, MAX_WBITS + 16);
  BodyTagInjector injector("[B]");
  bool ok = false;
  std::string out = Recode(gz, BodyRecoder::Coding::kGzip, 16384, &ok, &injector, Whole());
  ASSERT_TRUE(ok) << "ratio " << page.size() / gz.size();
  bool decoded = false;
  std::string expected = page;
  expected.insert(expected.find("<body class=\"x\">") + 16, "[B]");
  EXPECT_EQ(Decompress(out, &decoded), expected);
  EXPECT_TRUE(decoded);
}

// A wrong ISIZE (the decoded length in the gzip trailer) is an error either
// way: libdeflate declines it and zlib's length check refuses it.
TEST_P(BodyRecoderTest, WrongDeclaredSizeIsNeverCompleted) {
  std::string gz = Compress(Page(5000), MAX_WBITS + 16);
  gz[gz.size() - 4] = static_cast<char>(gz[gz.size() - 4] + 1);
  BodyTagInjector injector("[B]");
  bool ok = true;
  std::string out = Recode(gz, BodyRecoder::Coding::kGzip, 512, &ok, &injector, Whole());
  ExpectRefusedOrAsIs(ok, out, gz);
}

// Pushes `gz` in pieces of `piece` bytes; returns the output and, in
// *early, whether any output came before the last piece.
std::string RecodeWatchingOutput(const std::string& gz, size_t piece, GzipWholeBody* whole,
                                 BodyRecoder* recoder_out, bool* early) {
  proxy::EvbufferPtr buf(evbuffer_new());
  std::string out;
  *early = false;
  for (size_t at = 0; at < gz.size(); at += piece) {
    bool last = at + piece >= gz.size();
    evbuffer_add(buf.get(), gz.data() + at, std::min(piece, gz.size() - at));
    EXPECT_TRUE(recoder_out->Process(buf.get(), last));
    size_t n = evbuffer_get_length(buf.get());
    if (!last && n > 0) *early = true;
    std::string got(n, '\0');
    evbuffer_remove(buf.get(), got.data(), n);
    out += got;
  }
  return out;
}

// A small gzip page is held until its end, then recoded in one piece (the
// same GzipWholeBody serving one page after another, as on a worker).
TEST(GzipWholeBodyTest, SmallGzipPageIsRecodedInOnePiece) {
  GzipWholeBody whole;
  for (size_t filler : {0ul, 100ul, 24000ul, 3000ul}) {
    std::string page = Page(filler);
    std::string gz = Compress(page, MAX_WBITS + 16);
    ASSERT_LE(gz.size(), GzipWholeBody::kMaxCompressedBytes);
    BodyTagInjector injector("[B]");
    BodyRecoder recoder(BodyRecoder::Coding::kGzip, 1, &injector, &whole);
    bool early = true;
    std::string out = RecodeWatchingOutput(gz, 1000, &whole, &recoder, &early);
    EXPECT_FALSE(early) << "nothing is passed on before the end of a small body";
    EXPECT_TRUE(recoder.recoded_whole()) << filler;
    bool decoded = false;
    EXPECT_EQ(Decompress(out, &decoded), Expected(page)) << filler;
    EXPECT_TRUE(decoded);
  }
}

TEST(GzipWholeBodyTest, SmallGzipPageWithoutATagIsRecodedUnchanged) {
  GzipWholeBody whole;
  for (const std::string& page : {std::string("<html><head><title>no body</title></head></html>"),
                                  std::string(), std::string(5000, 'x') + "<body"}) {
    std::string gz = Compress(page, MAX_WBITS + 16);
    BodyTagInjector injector("[B]");
    BodyRecoder recoder(BodyRecoder::Coding::kGzip, 1, &injector, &whole);
    bool early = true;
    std::string out = RecodeWatchingOutput(gz, 1000, &whole, &recoder, &early);
    EXPECT_TRUE(recoder.recoded_whole()) << page.size();
    EXPECT_FALSE(injector.found());
    bool decoded = false;
    EXPECT_EQ(Decompress(out, &decoded), page);  // the CRC-32 and size checked too
    EXPECT_TRUE(decoded) << page.size() << " " << out.size();
  }
}

// Past kMaxCompressedBytes the held bytes and the rest stream through zlib.
TEST(GzipWholeBodyTest, LargeGzipPageStreams) {
  GzipWholeBody whole;
  std::string page = Page(400000);  // random letters: ~60 % of that compressed
  std::string gz = Compress(page, MAX_WBITS + 16);
  ASSERT_GT(gz.size(), GzipWholeBody::kMaxCompressedBytes);
  BodyTagInjector injector("[B]");
  BodyRecoder recoder(BodyRecoder::Coding::kGzip, 1, &injector, &whole);
  bool early = false;
  std::string out = RecodeWatchingOutput(gz, 8192, &whole, &recoder, &early);
  EXPECT_TRUE(early) << "a large body must stream, not be held whole";
  EXPECT_FALSE(recoder.recoded_whole());
  bool decoded = false;
  EXPECT_EQ(Decompress(out, &decoded), Expected(page));
  EXPECT_TRUE(decoded);
}

}  // namespace
}  // namespace tidegate::banner
