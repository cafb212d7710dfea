#include "banner/gzip_whole_body.h"

#include <libdeflate.h>

#include <algorithm>
#include <cstring>

#include "banner/body_tag_injector.h"

namespace tidegate::banner {
namespace {

// A gzip member is at least a 10-byte header and an 8-byte trailer.
constexpr size_t kMinMember = 18;
constexpr size_t kHeaderBytes = 10;
constexpr size_t kTrailerBytes = 8;
// RFC 1952 header: magic, CM = deflate, no flags, no MTIME, XFL 0, OS 3
// (Unix), as zlib writes it.
constexpr unsigned char kHeader[kHeaderBytes] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};

uint32_t ReadLe32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

void WriteLe32(uint32_t v, unsigned char* p) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}

}  // namespace

GzipWholeBody::GzipWholeBody() : decompressor_(libdeflate_alloc_decompressor()) {}

GzipWholeBody::~GzipWholeBody() {
  libdeflate_free_decompressor(decompressor_);
  for (EncoderSlot& e : encoders_) {
    if (e.ready) deflateEnd(&e.stream);
  }
}

z_stream* GzipWholeBody::Encoder(int level) {
  level = std::clamp(level, 1, 9);
  EncoderSlot& e = encoders_[static_cast<size_t>(level)];
  if (e.failed) return nullptr;
  if (!e.ready) {
    e.ready = deflateInit2(&e.stream, level, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK;
    e.failed = !e.ready;
    e.used = false;
    return e.ready ? &e.stream : nullptr;
  }
  // Reset only a state that encoded since (asking twice costs nothing).
  if (e.used && deflateReset(&e.stream) != Z_OK) return nullptr;
  e.used = false;
  return &e.stream;
}

bool GzipWholeBody::Recode(evbuffer* compressed, BodyTagInjector* injector, int level,
                           evbuffer* out) {
  size_t in_len = evbuffer_get_length(compressed);
  if (decompressor_ == nullptr || in_len < kMinMember || in_len > kMaxCompressedBytes) {
    return false;
  }
  // One contiguous view of the member (a no-op when it came in one read).
  const unsigned char* in = evbuffer_pullup(compressed, -1);
  if (in == nullptr) return false;
  size_t declared = ReadLe32(in + in_len - 4);  // ISIZE
  if (declared > kMaxDecodedBytes) return false;
  // The encoder is checked before the injector sees the page (a false
  // return must leave it untouched).
  if (Encoder(level) == nullptr) return false;
  if (decoded_.size() < declared) decoded_.resize(declared);
  size_t used_in = 0;
  size_t got = 0;
  libdeflate_result rc = libdeflate_gzip_decompress_ex(decompressor_, in, in_len, decoded_.data(),
                                                       declared, &used_in, &got);
  // Anything but exactly one whole member of the declared size: zlib decides.
  if (rc != LIBDEFLATE_SUCCESS || used_in != in_len || got != declared) return false;
  // The page in up to three segments (before the insertion, the insertion,
  // after it), encoded and checksummed in place: no copy of the page.
  std::string_view page(decoded_.data(), got);
  size_t at = injector->Find(page);
  std::string_view segments[3] = {page, {}, {}};
  if (at != std::string_view::npos) {
    segments[0] = page.substr(0, at);
    segments[1] = injector->insertion();
    segments[2] = page.substr(at);
  }
  return EncodeMember(segments, level, out);
}

bool GzipWholeBody::EncodeMember(std::span<const std::string_view> segments, int level,
                                 evbuffer* out) {
  z_stream* encoder = Encoder(level);
  if (encoder == nullptr) return false;
  encoders_[static_cast<size_t>(std::clamp(level, 1, 9))].used = true;
  size_t plain_size = 0;
  for (std::string_view s : segments) plain_size += s.size();
  size_t bound = kHeaderBytes + deflateBound(encoder, plain_size) + kTrailerBytes;
  evbuffer_iovec vec;
  if (evbuffer_reserve_space(out, static_cast<ev_ssize_t>(bound), &vec, 1) != 1 ||
      vec.iov_len < bound) {
    return false;
  }
  auto* dst = static_cast<unsigned char*>(vec.iov_base);
  std::memcpy(dst, kHeader, kHeaderBytes);
  encoder->next_out = dst + kHeaderBytes;
  encoder->avail_out = static_cast<uInt>(bound - kHeaderBytes - kTrailerBytes);
  uint32_t crc = 0;
  for (size_t k = 0; k <= segments.size(); ++k) {
    // One more round than segments: Z_FINISH on no input ends the stream.
    bool last = k == segments.size();
    std::string_view segment = last ? std::string_view() : segments[k];
    encoder->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(segment.data()));
    encoder->avail_in = static_cast<uInt>(segment.size());
    int rc = deflate(encoder, last ? Z_FINISH : Z_NO_FLUSH);
    // Z_BUF_ERROR: an empty segment (no progress possible), not an error.
    bool ok =
        last ? rc == Z_STREAM_END : (rc == Z_OK || rc == Z_BUF_ERROR) && encoder->avail_in == 0;
    if (!ok) {
      evbuffer_commit_space(out, &vec, 0);
      return false;
    }
    // (A null buffer would restart the checksum: empty segments are skipped.)
    if (!segment.empty()) crc = libdeflate_crc32(crc, segment.data(), segment.size());
  }
  unsigned char* trailer = dst + kHeaderBytes + encoder->total_out;
  WriteLe32(crc, trailer);
  WriteLe32(static_cast<uint32_t>(plain_size), trailer + 4);
  vec.iov_len = kHeaderBytes + encoder->total_out + kTrailerBytes;
  evbuffer_commit_space(out, &vec, 1);
  return true;
}

}  // namespace tidegate::banner
