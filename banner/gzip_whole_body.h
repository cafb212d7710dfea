// GzipWholeBody: re-encodes a small gzip body in one piece (and encodes a
// small identity body in one piece, EncodeMember, for BodyCompressor): libdeflate
// (Debian libdeflate-dev) decodes the whole member and checks its CRC-32,
// the banner goes in, and zlib encodes the result as a raw deflate stream
// inside a gzip header and trailer written here, with libdeflate's CRC-32.
// Measured on the 24 KB benchmark page (benches/run_banner.sh): zlib's
// inflate and its table-driven CRC-32 (computed twice, decoding and
// encoding) were most of the recoding time; libdeflate decodes in a third of
// the time and its CRC-32 uses carry-less multiplication. libdeflate's own
// level-1 encoder was slower than zlib's on that (very repetitive) page, so
// encoding stays with zlib, on a deflate state kept per worker and reset per
// page (deflateInit's ~256 KB set-up is paid once).
//
// BodyRecoder uses it when the whole compressed body arrived within
// kMaxCompressedBytes; anything else (larger, several gzip members, an
// ISIZE past kMaxDecodedBytes, a body libdeflate refuses) makes Recode()
// return false and BodyRecoder streams the same bytes through zlib, which
// decides what is an error.
//
// Memory: the coders and the two buffers are reused from one response to
// the next; the buffers grow to the largest body seen (at most
// kMaxDecodedBytes decoded + the banner).
//
// Thread: one object per worker (banner/banner_filter.h keeps it in the
// worker's slot), used by that worker only. Not copyable.
#pragma once

#include <event2/buffer.h>

#include <zlib.h>

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

struct libdeflate_decompressor;

namespace tidegate::banner {

class BodyTagInjector;

class GzipWholeBody {
 public:
  static constexpr size_t kMaxCompressedBytes = 64 * 1024;
  static constexpr size_t kMaxDecodedBytes = 1024 * 1024;

  GzipWholeBody();
  ~GzipWholeBody();
  GzipWholeBody(const GzipWholeBody&) = delete;
  GzipWholeBody& operator=(const GzipWholeBody&) = delete;

  // Decodes the single gzip member in `compressed` (left untouched), passes
  // the text through `injector` (as its only piece) and appends the gzip
  // encoding at `level` (1..9) to `out`. False, with `out` and `injector`
  // untouched, when the body is not one complete member within the bounds
  // or a coder is unavailable. (Encoding into a buffer of deflateBound()
  // bytes does not fail once the text went through the injector.)
  bool Recode(evbuffer* compressed, BodyTagInjector* injector, int level, evbuffer* out);

  // Appends to `out` one gzip member holding the concatenation of
  // `segments` (read in place, not copied), encoded at `level` (1..9) by
  // this worker's raw-deflate state with libdeflate's CRC-32. Used by
  // Recode() and by BodyCompressor for identity pages it compresses whole.
  // False, with `out` untouched, when the coder is unavailable.
  bool EncodeMember(std::span<const std::string_view> segments, int level, evbuffer* out);

 private:
  // The raw-deflate encoder of `level`, ready for a new stream (reset when
  // it encoded since); null when zlib could not set it up.
  z_stream* Encoder(int level);

  libdeflate_decompressor* decompressor_ = nullptr;
  struct EncoderSlot {
    z_stream stream{};
    bool ready = false;
    bool failed = false;
    bool used = false;  // encoded since its last reset
  };
  std::array<EncoderSlot, 10> encoders_{};  // by level, set up when first used
  std::string decoded_;
};

}  // namespace tidegate::banner
