// Direct socket reads and writes into/out of evbuffers, for plain TCP
// connections (TLS goes through bufferevent_openssl instead).
//
// Contract: non-blocking stream sockets (reads are recv()/recvmsg(), which
// a pipe refuses); worker thread. Unlike evbuffer_read(),
// ReadIntoBuffer() asks the kernel nothing but the read itself (no FIONREAD
// ioctl per read). They work on bufferevent-owned buffers (they thaw the
// frozen end for the duration of the call).
//
// The read path of a connection that parses in place (docs/architecture.md
// "I/O path"), shared by ClientConnection and UpstreamConnection:
//   1. ReadForParse(): when nothing is buffered and the parser may take
//      bytes now, one recv() onto the caller's stack buffer; otherwise one
//      read appended to the bufferevent's input buffer.
//   2. The caller parses the stack bytes, or the input buffer piece by piece
//      (FirstPiece()).
//   3. SettleParsed(): drains what the parser took from the input buffer, or
//      keeps the unparsed tail of the stack bytes (a pipelined request, a
//      held body, an origin's excess bytes) in the input buffer.
// No allocation unless bytes must be kept; one system call per read.
#pragma once

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <sys/types.h>

namespace tidegate::proxy {

enum class IoResult { kOk, kWouldBlock, kEof, kError };

// Reads at most `max` bytes. *n is the number of bytes read when kOk.
IoResult ReadIntoBuffer(evbuffer* buffer, evutil_socket_t fd, size_t max, size_t* n);

// One read for a parser. `stack` non-null: reads at most `max` bytes onto it
// (the caller checked that `input` is empty and the parser takes bytes now).
// `stack` null: appends at most `max` bytes to `input` (ReadIntoBuffer). *n
// is the number of bytes read when kOk. Retries on EINTR.
IoResult ReadForParse(evbuffer* input, evutil_socket_t fd, char* stack, size_t max, size_t* n);

// The first contiguous piece of `buffer`; false when it is empty.
bool FirstPiece(evbuffer* buffer, const char** data, size_t* len);

// The parser took `consumed` of the `len` bytes at `data`. `from_stack`
// false: the bytes are the first piece of `input`; drains `consumed` of them.
// `from_stack` true: appends the unparsed tail, if any, to `input` (it must
// be there before anyone looks at the input buffer: the end of an exchange
// decides keep-alive and reuse on it).
void SettleParsed(evbuffer* input, const char* data, size_t len, size_t consumed, bool from_stack);

// Writes as much of `buffer` as the socket takes, draining what was written.
// kOk when something or nothing needed writing, kWouldBlock when the socket
// is full, kError on a failed socket (errno set).
IoResult WriteFromBuffer(evbuffer* buffer, evutil_socket_t fd);

// Who performs a plain connection's socket I/O right now. Writes go straight
// from the bufferevent's output buffer (FlushDirect) until the socket is
// full; then the bufferevent owns writing (EPOLLOUT armed, with its write
// timeout) until its write callback calls EndPendingWrite().
struct DirectIo {
  bool reading = false;        // the connection's own read event is added
  bool write_pending = false;  // the bufferevent owns writing
};

// Writes `bev`'s output to its socket (io->write_pending must be false).
// kWouldBlock: the socket is full; the bufferevent writes the rest and
// io->write_pending is set. kError: the socket failed. kOk otherwise.
IoResult FlushDirect(bufferevent* bev, DirectIo* io);

// The bufferevent wrote everything: back to direct writes.
void EndPendingWrite(bufferevent* bev, DirectIo* io);

}  // namespace tidegate::proxy
