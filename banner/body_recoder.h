// BodyRecoder: decodes a gzip or deflate response body, lets a
// BodyTagInjector insert the banner into the decoded HTML, and encodes the
// result again with the same content coding (zlib), piece by piece.
//
// Memory is bounded whatever the compression ratio: decoded bytes go through
// a 16 KB block at a time (decode → inject → encode), so a small compressed
// piece that inflates to megabytes never sits in memory decoded. Time is
// bounded too: past 1 MiB decoded, a body (or gzip member) that decodes to
// more than 250 times its compressed size so far is a compression bomb
// (zeros reach ~1000x; HTML, even very repetitive, stays far below 250x):
// Process() fails as for a corrupt body, after about 1 MiB of work instead
// of seconds of one worker's time (a 1 MB body of zeros is 1 GB decoded). zlib's own
// state is ~40 KB (inflate) + ~256 KB (deflate, memLevel 8) per response.
//
// Errors: a body that does not decode (corrupt gzip, unknown wrapper) makes
// Process() return false; the recoder then drops that piece and every later
// one, and never finishes the encoded stream, so the client's decoder sees a
// truncated stream (an error), never a silently different page. "deflate"
// accepts the zlib wrapper (RFC 1950, what the coding means) and falls back
// to a raw deflate stream (what some servers send). Several gzip members are
// decoded one after the other, wherever the pieces split them (a member may
// end exactly at the end of a piece, or inside its 8-byte trailer); bytes
// after a member that do not start as one (0x1f 0x8b: padding such as NUL
// bytes or a newline, which gzip(1) and browsers ignore) are ignored; a
// member that starts and does not decode is an error. A body that ends before its
// compressed stream does (a truncated origin response) is not finished either.
//
// Small gzip bodies: with a GzipWholeBody (the worker's), the compressed
// pieces are held (not passed on) until the body ends or passes
// GzipWholeBody::kMaxCompressedBytes; a body that ended within it is recoded
// in one piece by libdeflate. Past the bound, or when libdeflate declines
// (several members, a corrupt body…), the held bytes and the rest stream
// through zlib as above, with the same results. Holding delays the first
// byte of a small gzip page until its last byte came from the origin
// (64 KB compressed at most), as a buffering proxy would.
//
// Thread: one recoder per response, one thread. Not copyable.
#pragma once

#include <event2/buffer.h>
#include <zlib.h>

#include <string>

#include "banner/body_tag_injector.h"
#include "banner/gzip_whole_body.h"
#include "proxy/libevent_handles.h"

namespace tidegate::banner {

class BodyRecoder {
 public:
  enum class Coding { kGzip, kDeflate };

  // `injector` (and `whole`, when not null) must outlive the recoder.
  // `level` is zlib's 1..9. `whole`: the worker's whole-body recoder for
  // small gzip bodies (null: always stream through zlib).
  BodyRecoder(Coding coding, int level, BodyTagInjector* injector, GzipWholeBody* whole = nullptr);
  ~BodyRecoder();
  BodyRecoder(const BodyRecoder&) = delete;
  BodyRecoder& operator=(const BodyRecoder&) = delete;

  // Replaces the encoded bytes of `piece` by the re-encoded ones (possibly
  // none yet: deflate keeps data until it has a block). `end_stream`
  // finishes the encoded stream. Returns false once decoding failed.
  bool Process(evbuffer* piece, bool end_stream);
  bool failed() const { return failed_; }
  // True when the body went out in one piece: recoded by GzipWholeBody, or
  // passed_as_is().
  bool recoded_whole() const { return recoded_whole_; }
  // A held body (holding_whole() until its end) that does not decode — a
  // gzip member without its trailer, a corrupt one — went out as the
  // origin sent it, in one piece, without the insertion (nothing had gone
  // out: the origin's bytes, not a 502; the client's decoder judges them,
  // as without tidegate). Process() returned true.
  bool passed_as_is() const { return passed_as_is_; }
  // True while the compressed pieces are held for GzipWholeBody (the
  // output's length is then known at the end, if recoded_whole()).
  bool holding_whole() const { return whole_ != nullptr; }

 private:
  bool Stream(evbuffer* piece, bool end_stream);
  // Sets up zlib's two streams, once (not at all for a whole-body recode).
  void StartZlib();
  bool Inflate(const unsigned char* data, size_t len, bool first_piece);
  void Deflate(const char* data, size_t len, int flush);

  Coding coding_;
  int level_;
  BodyTagInjector* injector_;
  GzipWholeBody* whole_;     // null once streaming through zlib
  proxy::EvbufferPtr held_;  // compressed pieces held for whole_
  bool recoded_whole_ = false;
  bool passed_as_is_ = false;
  z_stream in_{};
  z_stream out_{};
  bool in_ready_ = false;
  bool out_ready_ = false;
  bool raw_deflate_ = false;
  bool in_ended_ = false;      // a deflate stream ended: later bytes are ignored
  bool in_complete_ = false;   // the last decoded stream (or gzip member) ended
  bool member_ended_ = false;  // a gzip member ended: more input starts the next
  bool failed_ = false;
  bool any_input_ = false;
  bool zlib_started_ = false;
  std::string plain_;  // one decoded block after injection
  proxy::EvbufferPtr encoded_;
};

}  // namespace tidegate::banner
