// libFuzzer target: the banner injector and recoder (banner/).
//
// Byte 0 picks the mode, byte 1 the piece size, the rest is the body:
// * mode 0, plain HTML through BodyTagInjector: removing the one insertion
//   from the output must give back the input exactly.
// * mode 1, the input as a gzip (or, mode 2, deflate) body from the origin,
//   recoded: must not crash whatever the bytes; when the recoder does not
//   fail, its output must inflate to a complete stream.
// * mode 3, the input as HTML that the harness gzips (as 1 or 2 members,
//   split at byte 2's position): the recoded output must gunzip to the
//   input with the banner inserted exactly where the injector alone puts it.
// * mode 4, the input as identity HTML that BodyCompressor gzips
//   (`compressed = "compress"`; byte 2: held whole or streamed, with or
//   without the banner): the output must gunzip to the input with the
//   banner where the injector alone puts it.
#include <event2/buffer.h>
#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "banner/body_compressor.h"
#include "banner/body_recoder.h"
#include "banner/body_tag_injector.h"

namespace {

using tidegate::banner::BodyCompressor;
using tidegate::banner::BodyRecoder;
using tidegate::banner::BodyTagInjector;

constexpr std::string_view kBanner = "<div id=\"tg-banner\">B</div>";

void Check(bool condition) {
  if (!condition) abort();
}

std::string Drain(evbuffer* buffer) {
  std::string out(evbuffer_get_length(buffer), '\0');
  evbuffer_remove(buffer, out.data(), out.size());
  return out;
}

// gzip (windowBits 31) of `plain`.
std::string Gzip(std::string_view plain) {
  z_stream z{};
  Check(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, plain.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  z.avail_in = plain.size();
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = out.size();
  Check(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// Decodes every gzip member (windowBits 47 = auto gzip/zlib) or a zlib
// stream; false when the stream is corrupt or does not end.
bool Inflate(std::string_view encoded, bool gzip, std::string* plain) {
  size_t pos = 0;
  do {
    z_stream z{};
    if (inflateInit2(&z, gzip ? 31 : 15) != Z_OK) return false;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(encoded.data() + pos));
    z.avail_in = encoded.size() - pos;
    int rc = Z_OK;
    char block[4096];
    while (rc == Z_OK) {
      z.next_out = reinterpret_cast<Bytef*>(block);
      z.avail_out = sizeof block;
      rc = inflate(&z, Z_NO_FLUSH);
      plain->append(block, sizeof block - z.avail_out);
      if (rc == Z_BUF_ERROR && z.avail_in == 0) break;
    }
    pos = encoded.size() - z.avail_in;
    inflateEnd(&z);
    if (rc != Z_STREAM_END) return false;
  } while (gzip && pos < encoded.size());
  return true;
}

// Feeds `body` to the recoder (or compressor) in pieces of `piece` bytes;
// returns the output.
template <typename Coder>
std::string Recode(Coder& recoder, std::string_view body, size_t piece) {
  std::string out;
  evbuffer* buffer = evbuffer_new();
  size_t pos = 0;
  do {
    size_t n = std::min(piece, body.size() - pos);
    evbuffer_add(buffer, body.data() + pos, n);
    pos += n;
    recoder.Process(buffer, pos == body.size());
    out += Drain(buffer);
  } while (pos < body.size());
  evbuffer_free(buffer);
  return out;
}

std::string InjectPlain(std::string_view html, size_t piece, size_t window) {
  BodyTagInjector injector{std::string(kBanner), window};
  std::string out;
  for (size_t pos = 0; pos < html.size(); pos += piece) {
    injector.Process(html.substr(pos, piece), &out);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const int mode = data[0] % 5;
  const size_t piece = 1 + data[1] % 97;
  std::string_view body(reinterpret_cast<const char*>(data + 3), size - 3);

  if (mode == 0) {
    const size_t window = (data[2] & 1) ? 64 : BodyTagInjector::kDefaultWindow;
    std::string out = InjectPlain(body, piece, window);
    if (out.size() != body.size()) {
      Check(out.size() == body.size() + kBanner.size());
      // The input may hold the banner's text itself: one of the occurrences
      // must be the insertion.
      bool matched = false;
      for (size_t at = out.find(kBanner); at != std::string::npos && !matched;
           at = out.find(kBanner, at + 1)) {
        matched = out.substr(0, at) + out.substr(at + kBanner.size()) == body;
      }
      Check(matched);
    }
    // Evbuffer path gives the same bytes.
    BodyTagInjector injector{std::string(kBanner), window};
    std::string via_evbuffer;
    evbuffer* buffer = evbuffer_new();
    for (size_t pos = 0; pos < body.size(); pos += piece) {
      std::string_view part = body.substr(pos, piece);
      evbuffer_add(buffer, part.data(), part.size());
      injector.Process(buffer);
      via_evbuffer += Drain(buffer);
    }
    evbuffer_free(buffer);
    Check(via_evbuffer == out);
    return 0;
  }

  if (mode == 1 || mode == 2) {
    const bool gzip = mode == 1;
    BodyTagInjector injector{std::string(kBanner)};
    BodyRecoder recoder(gzip ? BodyRecoder::Coding::kGzip : BodyRecoder::Coding::kDeflate, 1,
                        &injector);
    std::string out = Recode(recoder, body, piece);
    if (!recoder.failed() && !body.empty()) {
      std::string plain;
      // An origin stream that does not end is not finished by the recoder
      // either; only a finished output must decode.
      (void)Inflate(out, gzip, &plain);
    }
    return 0;
  }

  if (mode == 4) {
    const bool with_banner = data[2] & 1;
    const bool hold = data[2] & 2;
    BodyTagInjector injector{std::string(kBanner)};
    tidegate::banner::GzipWholeBody whole;
    BodyCompressor compressor(1 + data[2] % 9, with_banner ? &injector : nullptr, &whole, hold);
    std::string out = Recode(compressor, body, piece);
    std::string plain;
    Check(Inflate(out, true, &plain));
    Check(plain == (with_banner
                        ? InjectPlain(body, body.size() + 1, BodyTagInjector::kDefaultWindow)
                        : std::string(body)));
    return 0;
  }

  // mode 3: round trip through gzip, in one or two members.
  size_t split = body.empty() ? 0 : data[2] % (body.size() + 1);
  std::string encoded = Gzip(body.substr(0, split));
  if (data[2] & 0x80) encoded += Gzip(body.substr(split));
  std::string expected_plain = std::string(body.substr(0, split));
  if (data[2] & 0x80) expected_plain += body.substr(split);
  BodyTagInjector injector{std::string(kBanner)};
  BodyRecoder recoder(BodyRecoder::Coding::kGzip, 1, &injector);
  std::string out = Recode(recoder, encoded, piece);
  Check(!recoder.failed());
  std::string plain;
  Check(Inflate(out, true, &plain));
  Check(plain ==
        InjectPlain(expected_plain, expected_plain.size() + 1, BodyTagInjector::kDefaultWindow));
  return 0;
}
