// Byte-exact client/peer connections for tests: send exact bytes, read
// with deadlines, see whether the peer closed (FIN) or reset (RST).
//
// Contract:
// * Connection is the buffered reading logic shared by the plain
//   RawConnection (here) and TlsConnection (tls_client.h). Bytes received
//   and not yet consumed stay in buffer(); message readers (http_reader.h)
//   consume from its front, so bytes of a following pipelined message are
//   kept.
// * Every read takes a timeout; nothing blocks forever. Reads never throw.
// * A Connection is used by one thread at a time (a test thread or one
//   ScriptedOrigin script thread). The descriptor is closed by the
//   destructor.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace tidegate::itest {

using std::chrono::milliseconds;

enum class ReadStatus {
  kData,     // at least one new byte was appended to buffer()
  kTimeout,  // nothing arrived in time; the connection is still open
  kClosed,   // the peer closed its sending side (FIN, or TLS close_notify)
  kReset,    // the connection was reset (RST / ECONNRESET)
  kError,    // any other error (TLS failure, EBADF...)
};
const char* ToString(ReadStatus status);

class Connection {
 public:
  virtual ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends every byte of `bytes`; false when the peer is gone (EPIPE,
  // ECONNRESET: then peer_closed() becomes true) or on another error.
  // Waits up to 10 s for buffer space.
  bool Send(std::string_view bytes);
  // Waits up to `timeout` for more bytes and appends what arrives.
  ReadStatus ReadMore(milliseconds timeout);
  // Reads until the peer closes or resets, or `timeout` passes (kTimeout).
  ReadStatus ReadUntilClose(milliseconds timeout);
  // Reads until buffer() contains `needle` (true), or close/timeout (false).
  bool ReadUntilContains(std::string_view needle, milliseconds timeout);
  // Reads until buffer() holds at least `n` bytes.
  bool ReadAtLeast(size_t n, milliseconds timeout);

  // Received bytes not yet consumed by a reader.
  std::string& buffer() { return buffer_; }
  std::string TakeBuffer();
  // Total bytes ever received.
  uint64_t bytes_received() const { return bytes_received_; }
  bool peer_closed() const { return peer_closed_; }  // FIN or RST seen
  bool peer_reset() const { return peer_reset_; }    // RST seen

  // Half-close: shutdown(SHUT_WR) — the peer reads EOF, we can still read.
  void ShutdownWrite();
  // Abortive close: SO_LINGER {1, 0} then close → the peer sees a RST.
  void Reset();
  // Plain close now (the destructor does it too).
  void Close();
  int fd() const { return fd_; }

 protected:
  explicit Connection(int fd);
  struct IoResult {
    ReadStatus status;
    size_t bytes = 0;
  };
  // Reads at most `len` bytes, waiting at most `timeout_ms` for readiness.
  virtual IoResult RecvSome(char* data, size_t len, int timeout_ms);
  // Writes some bytes; returns bytes written, 0 when it would block, -1 on error.
  virtual long SendSome(const char* data, size_t len);
  // Hook for recorders (ScriptedOrigin): called with every received chunk.
  virtual void OnReceived(std::string_view data) {}
  virtual void OnPeerClosed(bool reset) {}

  int fd_;

 private:
  std::string buffer_;
  uint64_t bytes_received_ = 0;
  bool peer_closed_ = false;
  bool peer_reset_ = false;
};

class RawConnection : public Connection {
 public:
  // Connects to 127.0.0.1:port (blocking, up to 5 s). nullptr + *error on failure.
  static std::unique_ptr<RawConnection> Connect(uint16_t port, std::string* error);
  // The same from the loopback source address `source` ("127.0.3.9": any
  // 127.0.0.0/8 address; a client on another network as tidegate sees it).
  static std::unique_ptr<RawConnection> ConnectFrom(const std::string& source, uint16_t port,
                                                    std::string* error);
  // Takes ownership of a connected socket.
  explicit RawConnection(int fd) : Connection(fd) {}
};

// Connects or records a gtest failure and returns nullptr.
std::unique_ptr<RawConnection> ConnectOrFail(uint16_t port);
std::unique_ptr<RawConnection> ConnectFromOrFail(const std::string& source, uint16_t port);

}  // namespace tidegate::itest
