#include "banner/body_recoder.h"

#include <algorithm>

namespace tidegate::banner {
namespace {

constexpr size_t kBlock = 16 * 1024;
constexpr int kGzipWrapper = 16;  // windowBits + 16: gzip header and trailer
constexpr int kAutoWrapper = 32;  // windowBits + 32: zlib or gzip, detected
// A compression bomb (see the header): past kBombFloor decoded bytes, a body
// that decodes to more than kBombRatio times its compressed size so far.
constexpr uLong kBombFloor = 1 << 20;
constexpr uLong kBombRatio = 250;

}  // namespace

BodyRecoder::BodyRecoder(Coding coding, int level, BodyTagInjector* injector, GzipWholeBody* whole)
    : coding_(coding),
      level_(level),
      injector_(injector),
      whole_(coding == Coding::kGzip ? whole : nullptr),
      encoded_(evbuffer_new()) {
  if (whole_ != nullptr) held_.reset(evbuffer_new());
  if (!held_) whole_ = nullptr;
  failed_ = !encoded_;
}

void BodyRecoder::StartZlib() {
  if (zlib_started_) return;
  zlib_started_ = true;
  in_ready_ = inflateInit2(&in_, MAX_WBITS + kAutoWrapper) == Z_OK;
  int bits = coding_ == Coding::kGzip ? MAX_WBITS + kGzipWrapper : MAX_WBITS;
  out_ready_ = deflateInit2(&out_, std::clamp(level_, 1, 9), Z_DEFLATED, bits, 8,
                            Z_DEFAULT_STRATEGY) == Z_OK;
  if (!in_ready_ || !out_ready_) failed_ = true;
}

BodyRecoder::~BodyRecoder() {
  if (in_ready_) inflateEnd(&in_);
  if (out_ready_) deflateEnd(&out_);
}

void BodyRecoder::Deflate(const char* data, size_t len, int flush) {
  unsigned char block[kBlock];
  out_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
  out_.avail_in = static_cast<uInt>(len);
  do {
    out_.next_out = block;
    out_.avail_out = sizeof(block);
    int rc = deflate(&out_, flush);
    if (rc == Z_STREAM_ERROR) {
      failed_ = true;
      return;
    }
    evbuffer_add(encoded_.get(), block, sizeof(block) - out_.avail_out);
  } while (out_.avail_out == 0 || out_.avail_in > 0);
}

bool BodyRecoder::Inflate(const unsigned char* data, size_t len, bool first_piece) {
  unsigned char block[kBlock];
  in_.next_in = const_cast<Bytef*>(data);
  in_.avail_in = static_cast<uInt>(len);
  while (in_.avail_in > 0 && !in_ended_) {
    if (member_ended_) {
      // More input after a finished gzip member (in this piece or a later
      // one): the next member when it starts as one (0x1f 0x8b), else
      // padding some servers add (NUL bytes, a newline), which gzip(1) and
      // browsers ignore: so do we, up to the body's end.
      if (in_.next_in[0] != 0x1f || (in_.avail_in > 1 && in_.next_in[1] != 0x8b)) {
        in_ended_ = true;
        break;
      }
      if (inflateReset(&in_) != Z_OK) return false;
      member_ended_ = false;
      in_complete_ = false;
    }
    in_.next_out = block;
    in_.avail_out = sizeof(block);
    int rc = inflate(&in_, Z_NO_FLUSH);
    size_t produced = sizeof(block) - in_.avail_out;
    if (rc == Z_DATA_ERROR && coding_ == Coding::kDeflate && !raw_deflate_ && first_piece &&
        in_.total_out == 0) {
      // Not a zlib stream: try raw deflate from the first byte again.
      inflateEnd(&in_);
      raw_deflate_ = true;
      in_ready_ = inflateInit2(&in_, -MAX_WBITS) == Z_OK;
      if (!in_ready_) return false;
      in_.next_in = const_cast<Bytef*>(data);
      in_.avail_in = static_cast<uInt>(len);
      continue;
    }
    if (rc != Z_OK && rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && produced > 0)) return false;
    if (in_.total_out > kBombFloor && in_.total_out / kBombRatio > in_.total_in) return false;
    if (produced > 0) {
      plain_.clear();
      injector_->Process(std::string_view(reinterpret_cast<const char*>(block), produced), &plain_);
      Deflate(plain_.data(), plain_.size(), Z_NO_FLUSH);
      if (failed_) return false;
    }
    if (rc == Z_STREAM_END) {
      in_complete_ = true;
      // gzip may hold several members, and the next one may arrive in a
      // later piece; anything after a deflate stream is ignored.
      if (coding_ == Coding::kGzip) {
        member_ended_ = true;
      } else {
        in_ended_ = true;
      }
    }
  }
  return true;
}

bool BodyRecoder::Process(evbuffer* piece, bool end_stream) {
  if (whole_ == nullptr) return Stream(piece, end_stream);
  evbuffer_add_buffer(held_.get(), piece);
  size_t held = evbuffer_get_length(held_.get());
  if (!end_stream && held <= GzipWholeBody::kMaxCompressedBytes) return true;  // keep holding
  GzipWholeBody* whole = whole_;
  whole_ = nullptr;  // from now on: zlib, or done
  if (end_stream && whole->Recode(held_.get(), injector_, level_, piece)) {
    recoded_whole_ = true;
    evbuffer_drain(held_.get(), held);
    return true;
  }
  // Too large, or libdeflate declined: the held bytes stream through zlib.
  // At the body's end nothing went out yet: should zlib fail too, the
  // origin's bytes go out as they came (passed_as_is()).
  std::string original;
  if (end_stream) {
    original.resize(held);
    evbuffer_copyout(held_.get(), original.data(), held);
  }
  bool ok = Stream(held_.get(), end_stream);
  if (!ok && end_stream) {
    evbuffer_drain(held_.get(), evbuffer_get_length(held_.get()));
    evbuffer_drain(piece, evbuffer_get_length(piece));
    evbuffer_add(piece, original.data(), original.size());
    passed_as_is_ = recoded_whole_ = true;
    return true;
  }
  evbuffer_add_buffer(piece, held_.get());
  return ok;
}

bool BodyRecoder::Stream(evbuffer* piece, bool end_stream) {
  StartZlib();
  if (failed_) {
    evbuffer_drain(piece, evbuffer_get_length(piece));
    return false;
  }
  bool first_piece = !any_input_;
  size_t total = evbuffer_get_length(piece);
  if (total > 0) any_input_ = true;
  // A raw-deflate retry must see the first piece from its first byte: make
  // it one contiguous block (the first piece only).
  if (first_piece && coding_ == Coding::kDeflate && total > 0) evbuffer_pullup(piece, -1);
  size_t offset = 0;
  while (offset < total) {
    evbuffer_ptr pos;
    evbuffer_ptr_set(piece, &pos, offset, EVBUFFER_PTR_SET);
    evbuffer_iovec vec[16];
    int n = std::min(evbuffer_peek(piece, -1, &pos, vec, 16), 16);
    if (n <= 0) break;
    for (int k = 0; k < n; ++k) {
      if (!Inflate(static_cast<const unsigned char*>(vec[k].iov_base), vec[k].iov_len,
                   first_piece && offset == 0)) {
        failed_ = true;
        evbuffer_drain(piece, total);
        return false;
      }
      offset += vec[k].iov_len;
    }
  }
  evbuffer_drain(piece, total);
  if (end_stream) {
    // A compressed body that stops mid-stream is not completed by us.
    if (!in_complete_) {
      failed_ = true;
      return false;
    }
    Deflate(nullptr, 0, Z_FINISH);
  }
  if (failed_) return false;
  evbuffer_add_buffer(piece, encoded_.get());
  return true;
}

}  // namespace tidegate::banner
