// BodyCompressor: gzips an identity response body on its way to a client
// that accepts gzip (`compressed = "compress"`, banner/gzip_response.h),
// inserting the banner on the way when given a BodyTagInjector.
//
// Two ways, chosen per response:
// * whole (GzipPlan::kWhole, a Content-Length up to kGzipWholeBytes): the
//   pieces are held (moved into a buffer, not copied) until the body ends;
//   the injector finds the insertion point in the held chains and the
//   worker's GzipWholeBody encodes them in one gzip member, in place (no
//   copy of the page), with a per-worker deflate state reset per page. The
//   caller then knows the exact length. A body that passes kGzipWholeBytes
//   before it ends (longer than announced) continues as a stream, held
//   bytes first.
// * stream: a zlib gzip stream per response (deflateInit's ~256 KB state),
//   each piece through the injector, then deflated with Z_SYNC_FLUSH so
//   every byte the origin sent reaches the client without waiting for the
//   next piece; Z_FINISH at the end. Memory: zlib's state, whatever the
//   body's size.
//
// Errors: Process() returns false only when zlib cannot be set up or fails
// (out of memory); the caller aborts the response (the head already says
// gzip). A body that ends early (the origin fails) is never finished: the
// core closes the client connection without the message's end.
//
// Thread: one compressor per response, on its worker. Not copyable.
#pragma once

#include <event2/buffer.h>
#include <zlib.h>

#include "banner/body_tag_injector.h"
#include "banner/gzip_whole_body.h"
#include "proxy/libevent_handles.h"

namespace tidegate::banner {

class BodyCompressor {
 public:
  // `injector` may be null (compression only); `whole` is the worker's
  // GzipWholeBody (null: always stream). `hold_whole`: try the whole way.
  // `level` is zlib's 1..9. Pointers must outlive the compressor.
  BodyCompressor(int level, BodyTagInjector* injector, GzipWholeBody* whole, bool hold_whole);
  ~BodyCompressor();
  BodyCompressor(const BodyCompressor&) = delete;
  BodyCompressor& operator=(const BodyCompressor&) = delete;

  // Replaces the identity bytes of `piece` by gzip bytes (none while
  // holding). `end_stream` ends the gzip stream. False once zlib failed.
  bool Process(evbuffer* piece, bool end_stream);
  // True when the body was encoded in one piece (its size is then the
  // length of the piece returned by the last Process call).
  bool compressed_whole() const { return compressed_whole_; }
  // True while the pieces are held for the whole way.
  bool holding_whole() const { return holding_; }

 private:
  bool EncodeWhole(evbuffer* out);
  bool Stream(evbuffer* piece, bool end_stream);
  // Deflates `len` bytes at `data` with `flush` into encoded_.
  bool Deflate(const void* data, size_t len, int flush);

  int level_;
  BodyTagInjector* injector_;
  GzipWholeBody* whole_;
  bool holding_;
  bool compressed_whole_ = false;
  proxy::EvbufferPtr held_;
  z_stream zs_{};
  bool zs_ready_ = false;
  bool failed_ = false;
  proxy::EvbufferPtr encoded_;
};

}  // namespace tidegate::banner
