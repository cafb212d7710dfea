#include "banner/body_compressor.h"

#include <algorithm>
#include <array>
#include <climits>
#include <string_view>

#include "banner/gzip_response.h"

namespace tidegate::banner {
namespace {

constexpr int kGzipWrapper = 16;  // windowBits + 16: gzip header and trailer
constexpr size_t kOutBlock = 16 * 1024;
constexpr int kMaxChains = 16;  // more held chains than this are made one first

}  // namespace

BodyCompressor::BodyCompressor(int level, BodyTagInjector* injector, GzipWholeBody* whole,
                               bool hold_whole)
    : level_(std::clamp(level, 1, 9)),
      injector_(injector),
      whole_(whole),
      holding_(hold_whole && whole != nullptr),
      encoded_(evbuffer_new()) {
  if (holding_) held_.reset(evbuffer_new());
  if (!held_) holding_ = false;
  failed_ = !encoded_;
}

BodyCompressor::~BodyCompressor() {
  if (zs_ready_) deflateEnd(&zs_);
}

bool BodyCompressor::Process(evbuffer* piece, bool end_stream) {
  if (failed_) {
    evbuffer_drain(piece, evbuffer_get_length(piece));
    return false;
  }
  if (!holding_) return Stream(piece, end_stream);
  evbuffer_add_buffer(held_.get(), piece);
  if (!end_stream && evbuffer_get_length(held_.get()) <= kGzipWholeBytes) return true;
  holding_ = false;
  if (end_stream) {
    compressed_whole_ = EncodeWhole(piece);
    failed_ = !compressed_whole_;
    return compressed_whole_;
  }
  // Longer than announced or than the bound: the held bytes stream first.
  bool ok = Stream(held_.get(), false);
  evbuffer_add_buffer(piece, held_.get());
  return ok;
}

bool BodyCompressor::EncodeWhole(evbuffer* out) {
  evbuffer* held = held_.get();
  int chains = evbuffer_peek(held, -1, nullptr, nullptr, 0);
  if (chains > kMaxChains) {
    evbuffer_pullup(held, -1);  // a page read in many small pieces: one copy
    chains = 1;
  }
  std::array<evbuffer_iovec, kMaxChains> vec;
  int n = chains > 0 ? evbuffer_peek(held, -1, nullptr, vec.data(), kMaxChains) : 0;
  // The chains, one of them split around the insertion: read in place.
  std::array<std::string_view, kMaxChains + 2> segments;
  size_t count = 0;
  for (int k = 0; k < n; ++k) {
    std::string_view chain(static_cast<const char*>(vec[k].iov_base), vec[k].iov_len);
    size_t at = injector_ != nullptr ? injector_->Find(chain) : std::string_view::npos;
    if (at == std::string_view::npos) {
      segments[count++] = chain;
      continue;
    }
    segments[count++] = chain.substr(0, at);
    segments[count++] = injector_->insertion();
    segments[count++] = chain.substr(at);
  }
  bool ok = whole_->EncodeMember(std::span(segments.data(), count), level_, out);
  evbuffer_drain(held, evbuffer_get_length(held));
  return ok;
}

bool BodyCompressor::Deflate(const void* data, size_t len, int flush) {
  zs_.next_in = static_cast<Bytef*>(const_cast<void*>(data));
  zs_.avail_in = static_cast<uInt>(len);
  do {
    evbuffer_iovec v;
    if (evbuffer_reserve_space(encoded_.get(), kOutBlock, &v, 1) < 1) return false;
    zs_.next_out = static_cast<Bytef*>(v.iov_base);
    zs_.avail_out = static_cast<uInt>(std::min<size_t>(v.iov_len, UINT_MAX));
    uInt room = zs_.avail_out;
    // Z_BUF_ERROR only says "no progress possible" (nothing to flush).
    if (deflate(&zs_, flush) == Z_STREAM_ERROR) return false;
    v.iov_len = room - zs_.avail_out;
    evbuffer_commit_space(encoded_.get(), &v, 1);
  } while (zs_.avail_out == 0 || zs_.avail_in > 0);
  return true;
}

bool BodyCompressor::Stream(evbuffer* piece, bool end_stream) {
  if (!zs_ready_) {
    zs_ready_ = deflateInit2(&zs_, level_, Z_DEFLATED, MAX_WBITS + kGzipWrapper, 8,
                             Z_DEFAULT_STRATEGY) == Z_OK;
    if (!zs_ready_) failed_ = true;
  }
  if (injector_ != nullptr && !failed_) injector_->Process(piece);
  size_t total = evbuffer_get_length(piece);
  size_t offset = 0;
  while (!failed_ && offset < total) {
    evbuffer_ptr pos;
    evbuffer_ptr_set(piece, &pos, offset, EVBUFFER_PTR_SET);
    evbuffer_iovec vec[kMaxChains];
    int n = std::min(evbuffer_peek(piece, -1, &pos, vec, kMaxChains), kMaxChains);
    if (n <= 0) break;
    for (int k = 0; k < n && !failed_; ++k) {
      failed_ = !Deflate(vec[k].iov_base, vec[k].iov_len, Z_NO_FLUSH);
      offset += vec[k].iov_len;
    }
  }
  evbuffer_drain(piece, total);
  // Every byte read so far goes out now (a streamed page or feed must not
  // wait in the coder for the next piece); an empty piece adds nothing.
  if (!failed_ && (end_stream || total > 0)) {
    failed_ = !Deflate(nullptr, 0, end_stream ? Z_FINISH : Z_SYNC_FLUSH);
  }
  if (failed_) return false;
  evbuffer_add_buffer(piece, encoded_.get());
  return true;
}

}  // namespace tidegate::banner
