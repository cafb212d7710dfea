// Direct socket reads and writes into/out of evbuffers, for plain TCP
// connections (TLS goes through bufferevent_openssl instead).
//
// Contract: non-blocking sockets; worker thread. Unlike evbuffer_read(),
// ReadIntoBuffer() asks the kernel nothing but the read itself (no FIONREAD
// ioctl per read). Both work on bufferevent-owned buffers (they thaw the
// frozen end for the duration of the call).
#pragma once

#include <event2/buffer.h>
#include <event2/util.h>
#include <sys/types.h>

namespace tidegate::proxy {

enum class IoResult { kOk, kWouldBlock, kEof, kError };

// Reads at most `max` bytes. *n is the number of bytes read when kOk.
IoResult ReadIntoBuffer(evbuffer* buffer, evutil_socket_t fd, size_t max, size_t* n);

// Writes as much of `buffer` as the socket takes, draining what was written.
// kOk when something or nothing needed writing, kWouldBlock when the socket
// is full, kError on a failed socket (errno set).
IoResult WriteFromBuffer(evbuffer* buffer, evutil_socket_t fd);

}  // namespace tidegate::proxy
