// One writev(2) of what a connection's output buffer already queues (a
// response head, earlier chunk framing) followed by pieces that lie in the
// caller's memory (a local reply's parts, a body read from the origin): the
// pieces the kernel takes are never copied in user space. What it does not
// take stays queued, in order: the written part of the queued bytes is
// drained, the pieces' unwritten rest is copied after what remains.
//
// Contract: non-blocking socket; worker thread. `out` is a bufferevent's
// output buffer (its start frozen outside the bufferevent's callbacks, as
// libevent does; it is thawed for the drain only). The queued bytes go as
// at most kMaxQueuedPieces iovecs; when `out` holds more chains, or `count`
// exceeds kMaxGatheredPieces, the pieces are copied to `out` first and the
// buffer is written as libevent does (still one system call). Retries on
// EINTR. kOk: everything was written (`out` is empty). kWouldBlock: the
// socket took part or nothing; the remainder is in `out`. kError: the
// socket failed (errno set); every byte not written is in `out` (so the
// flush that follows meets the same error and reports it).
#pragma once

#include <event2/buffer.h>
#include <sys/uio.h>

#include "proxy/socket_io.h"

namespace tidegate::proxy {

inline constexpr int kMaxQueuedPieces = 8;
inline constexpr int kMaxGatheredPieces = 32;

IoResult WriteGathered(int fd, evbuffer* out, const iovec* pieces, int count);

}  // namespace tidegate::proxy
