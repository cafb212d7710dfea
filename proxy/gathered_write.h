// One writev(2) of a whole response from the caller's memory, for a plain
// socket with nothing queued before it (ClientConnection::WriteNow): the
// pieces the kernel takes are never copied in user space; what it does not
// take (a full socket) is copied into `rest`, in order, for the
// bufferevent to write later.
//
// Contract: non-blocking socket; worker thread; `rest` is the connection's
// (empty) output buffer. Retries on EINTR. kOk: everything was written.
// kWouldBlock: the socket took part or nothing; the remainder is in `rest`.
// kError: the socket failed (errno set); every byte is in `rest`, so the
// flush that follows meets the same error and reports it.
#pragma once

#include <event2/buffer.h>
#include <sys/uio.h>

#include "proxy/socket_io.h"

namespace tidegate::proxy {

IoResult WriteGathered(int fd, const iovec* pieces, int count, evbuffer* rest);

}  // namespace tidegate::proxy
