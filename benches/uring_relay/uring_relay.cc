// RunUringRelay (relay.h): the same relay as epoll_relay.cc on io_uring.
//
// Every socket lives in the ring's registered file table: client of slot i at
// index 2i, its upstream at 2i+1 (the plain descriptors are closed once
// registered, so each SQE names a fixed file and the kernel skips the per-call
// file reference). The loop submits whatever the previous turn's completions
// queued and waits for the next ones in one io_uring_submit_and_wait.
//
// Receives come in two variants (UringOptions::recv):
//   oneshot   one recv SQE into the connection's own buffer, re-armed once
//             the bytes were sent on: at most one operation in flight per
//             connection, as epoll_relay's recv-then-writev;
//   multishot one multishot recv per socket, armed for the connection's life,
//             filling buffers of a provided buffer ring; a buffer returns to
//             the ring when its bytes were sent on.
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <deque>
#include <memory>
#include <vector>

#include "benches/uring_relay/framing.h"
#include "benches/uring_relay/relay.h"

namespace uring_relay {
namespace {

[[noreturn]] void Die(const char* what, int err) {
  fprintf(stderr, "%s: %s\n", what, strerror(err));
  exit(2);
}

enum Op : uint64_t {
  kAccept,
  kClientRecv,
  kUpstreamRecv,
  kClientSend,
  kUpstreamSend,
  kShutdown,
};

constexpr uint64_t UserData(size_t slot, Op op) { return (uint64_t{slot} << 3) | op; }
constexpr uint16_t kBufferGroup = 1;

// Bytes on their way to one socket, sent in order, one send in flight.
struct Chunk {
  const char* data;
  size_t len;
  int buffer_id;  // multishot: the ring buffer to give back once sent; else -1
};
struct Outbox {
  std::deque<Chunk> chunks;
  size_t sent = 0;  // of chunks.front()
  bool sending = false;
};

struct Conn {
  bool has_upstream = false;
  bool closing = false;
  int in_flight = 0;     // SQEs whose completion has not been seen
  uint64_t awaited = 0;  // requests forwarded whose response has not ended
  MessageFramer requests;
  MessageFramer responses;
  Outbox to_client;
  Outbox to_upstream;
  std::vector<char> buffer;  // oneshot: the connection's only buffer
};

class UringRelay {
 public:
  UringRelay(const UringOptions& options, int listen_fd, uint16_t origin_port);
  ~UringRelay();
  RelayCounters Run(const std::atomic<bool>& stop);

 private:
  io_uring_sqe* Sqe();
  void Arm(io_uring_sqe* sqe, size_t slot, Op op, bool fixed);
  void ArmAccept();
  void ArmRecv(size_t slot, bool upstream);
  void SendNext(size_t slot, bool to_upstream);
  void OnCompletion(uint64_t user_data, int res, uint32_t flags);
  void OnAccept(int fd);
  void OnRecv(size_t slot, bool upstream, int res, uint32_t flags);
  void OnSent(size_t slot, bool to_upstream, int res);
  void Close(size_t slot);
  void MaybeFree(size_t slot);
  void GiveBack(int buffer_id);
  static unsigned FileIndex(size_t slot, bool upstream) { return 2 * slot + (upstream ? 1 : 0); }

  UringOptions options_;
  int listen_fd_;
  uint16_t origin_port_;
  bool multishot_;
  io_uring ring_;
  // multishot: the provided buffer ring and its buffers
  io_uring_buf_ring* buffer_ring_ = nullptr;
  size_t buffer_ring_bytes_ = 0;
  unsigned buffer_count_ = 0;
  std::vector<char> buffers_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<size_t> free_slots_;
  RelayCounters counters_;
};

UringRelay::UringRelay(const UringOptions& options, int listen_fd, uint16_t origin_port)
    : options_(options),
      listen_fd_(listen_fd),
      origin_port_(origin_port),
      multishot_(options.recv == "multishot") {
  io_uring_params params{};
  if (options.setup == "coop") {
    params.flags = IORING_SETUP_COOP_TASKRUN;
  } else if (options.setup == "single") {
    params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN;
  } else if (options.setup == "defer") {
    params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  } else if (options.setup != "plain") {
    fprintf(stderr, "unknown --setup %s\n", options.setup.c_str());
    exit(2);
  }
  params.flags |= IORING_SETUP_SUBMIT_ALL;
  int err = io_uring_queue_init_params(options.entries, &ring_, &params);
  if (err < 0) Die("io_uring_queue_init_params", -err);
  // The ring's own descriptor: io_uring_enter then skips its file lookup.
  if (io_uring_register_ring_fd(&ring_) < 0) fprintf(stderr, "warning: no registered ring fd\n");
  err = io_uring_register_files_sparse(&ring_, 2 * options.max_connections);
  if (err < 0) Die("io_uring_register_files_sparse", -err);
  if (multishot_) {
    buffer_count_ = 1024;
    buffers_.resize(size_t{buffer_count_} * options.read_size);
    buffer_ring_bytes_ = buffer_count_ * sizeof(io_uring_buf);
    void* mem = mmap(nullptr, buffer_ring_bytes_, PROT_READ | PROT_WRITE,
                     MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (mem == MAP_FAILED) Die("mmap buffer ring", errno);
    buffer_ring_ = static_cast<io_uring_buf_ring*>(mem);
    io_uring_buf_ring_init(buffer_ring_);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<uint64_t>(mem);
    reg.ring_entries = buffer_count_;
    reg.bgid = kBufferGroup;
    err = io_uring_register_buf_ring(&ring_, &reg, 0);
    if (err < 0) Die("io_uring_register_buf_ring", -err);
    for (unsigned i = 0; i < buffer_count_; ++i) {
      io_uring_buf_ring_add(buffer_ring_, buffers_.data() + size_t{i} * options.read_size,
                            options.read_size, i, io_uring_buf_ring_mask(buffer_count_), i);
    }
    io_uring_buf_ring_advance(buffer_ring_, buffer_count_);
  }
  conns_.resize(options.max_connections);
  for (size_t i = options.max_connections; i-- > 0;) free_slots_.push_back(i);
  ArmAccept();
}

UringRelay::~UringRelay() {
  io_uring_queue_exit(&ring_);  // closes the registered sockets with the ring
  if (buffer_ring_ != nullptr) munmap(buffer_ring_, buffer_ring_bytes_);
}

io_uring_sqe* UringRelay::Sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {  // the queue is full: submit what it holds, then retry
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) Die("io_uring_get_sqe", EBUSY);
  }
  return sqe;
}

void UringRelay::Arm(io_uring_sqe* sqe, size_t slot, Op op, bool fixed) {
  io_uring_sqe_set_data64(sqe, UserData(slot, op));
  if (fixed) sqe->flags |= IOSQE_FIXED_FILE;
  if (op != kAccept) ++conns_[slot]->in_flight;
}

void UringRelay::ArmAccept() {
  io_uring_sqe* sqe = Sqe();
  io_uring_prep_multishot_accept(sqe, listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  Arm(sqe, 0, kAccept, false);
}

void UringRelay::ArmRecv(size_t slot, bool upstream) {
  io_uring_sqe* sqe = Sqe();
  unsigned file = FileIndex(slot, upstream);
  if (multishot_) {
    io_uring_prep_recv_multishot(sqe, file, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = kBufferGroup;
  } else {
    Conn& c = *conns_[slot];
    io_uring_prep_recv(sqe, file, c.buffer.data(), c.buffer.size(), 0);
    // The request was just sent: no response byte can be there yet.
    if (upstream && options_.poll_first) sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
  }
  Arm(sqe, slot, upstream ? kUpstreamRecv : kClientRecv, true);
}

void UringRelay::SendNext(size_t slot, bool to_upstream) {
  Conn& c = *conns_[slot];
  Outbox& box = to_upstream ? c.to_upstream : c.to_client;
  if (box.sending || box.chunks.empty() || c.closing) return;
  const Chunk& chunk = box.chunks.front();
  io_uring_sqe* sqe = Sqe();
  io_uring_prep_send(sqe, FileIndex(slot, to_upstream), chunk.data + box.sent, chunk.len - box.sent,
                     MSG_NOSIGNAL);
  Arm(sqe, slot, to_upstream ? kUpstreamSend : kClientSend, true);
  box.sending = true;
}

void UringRelay::OnAccept(int fd) {
  if (free_slots_.empty()) {
    close(fd);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  size_t slot = free_slots_.back();
  free_slots_.pop_back();
  int err = io_uring_register_files_update(&ring_, FileIndex(slot, false), &fd, 1);
  if (err < 0) Die("io_uring_register_files_update", -err);
  close(fd);  // the table holds the socket now
  conns_[slot] = std::make_unique<Conn>();
  if (!multishot_) conns_[slot]->buffer.resize(options_.read_size);
  ++counters_.connections;
  ArmRecv(slot, false);
}

void UringRelay::OnRecv(size_t slot, bool upstream, int res, uint32_t flags) {
  Conn& c = *conns_[slot];
  bool more = multishot_ && (flags & IORING_CQE_F_MORE);
  if (res <= 0) {
    if (res == -ENOBUFS && !c.closing) {
      ArmRecv(slot, upstream);  // the ring ran dry; buffers come back as sends end
      return;
    }
    if (!more) Close(slot);
    return;
  }
  const char* data;
  int buffer_id = -1;
  if (multishot_) {
    buffer_id = flags >> IORING_CQE_BUFFER_SHIFT;
    data = buffers_.data() + size_t(buffer_id) * options_.read_size;
  } else {
    data = c.buffer.data();
  }
  if (c.closing) {
    GiveBack(buffer_id);
    return;
  }
  if (upstream) {
    int ended = c.responses.Feed(data, res);
    counters_.responses += ended;
    c.awaited -= ended;
    c.to_client.chunks.push_back({data, size_t(res), buffer_id});
    SendNext(slot, false);
  } else {
    int ended = c.requests.Feed(data, res);
    counters_.requests += ended;
    c.awaited += ended;
    if (!c.has_upstream) {
      int fd = ConnectOrigin(origin_port_);
      if (fd < 0) Die("connect origin", errno);
      int err = io_uring_register_files_update(&ring_, FileIndex(slot, true), &fd, 1);
      if (err < 0) Die("io_uring_register_files_update", -err);
      close(fd);
      c.has_upstream = true;
      if (multishot_) ArmRecv(slot, true);
    }
    c.to_upstream.chunks.push_back({data, size_t(res), buffer_id});
    SendNext(slot, true);
  }
  if (multishot_ && !more) ArmRecv(slot, upstream);  // the kernel ended the multishot
}

void UringRelay::OnSent(size_t slot, bool to_upstream, int res) {
  Conn& c = *conns_[slot];
  Outbox& box = to_upstream ? c.to_upstream : c.to_client;
  box.sending = false;
  if (res <= 0 || c.closing) {
    while (!box.chunks.empty()) {
      GiveBack(box.chunks.front().buffer_id);
      box.chunks.pop_front();
    }
    Close(slot);
    return;
  }
  box.sent += res;
  Chunk chunk = box.chunks.front();
  if (box.sent == chunk.len) {
    box.chunks.pop_front();
    box.sent = 0;
    GiveBack(chunk.buffer_id);
  }
  if (!box.chunks.empty()) {
    SendNext(slot, to_upstream);
    return;
  }
  // oneshot: the buffer is free again; read where the next bytes come from.
  if (!multishot_) ArmRecv(slot, c.awaited > 0);
}

void UringRelay::GiveBack(int buffer_id) {
  if (buffer_id < 0) return;
  io_uring_buf_ring_add(buffer_ring_, buffers_.data() + size_t(buffer_id) * options_.read_size,
                        options_.read_size, buffer_id, io_uring_buf_ring_mask(buffer_count_), 0);
  io_uring_buf_ring_advance(buffer_ring_, 1);
}

void UringRelay::Close(size_t slot) {
  Conn& c = *conns_[slot];
  if (!c.closing) {
    c.closing = true;
    // Operations still in flight (multishot recvs) end when their socket is
    // shut down; the slot is freed after the last completion.
    if (c.in_flight > 0) {
      for (bool upstream : {false, true}) {
        if (upstream && !c.has_upstream) continue;
        io_uring_sqe* sqe = Sqe();
        io_uring_prep_shutdown(sqe, FileIndex(slot, upstream), SHUT_RDWR);
        Arm(sqe, slot, kShutdown, true);
      }
    }
  }
  MaybeFree(slot);
}

void UringRelay::MaybeFree(size_t slot) {
  Conn& c = *conns_[slot];
  if (!c.closing || c.in_flight > 0) return;
  for (Outbox* box : {&c.to_client, &c.to_upstream}) {
    for (const Chunk& chunk : box->chunks) GiveBack(chunk.buffer_id);
  }
  int none[2] = {-1, -1};
  int err = io_uring_register_files_update(&ring_, FileIndex(slot, false), none, 2);
  if (err < 0) Die("io_uring_register_files_update (close)", -err);
  conns_[slot].reset();
  free_slots_.push_back(slot);
}

void UringRelay::OnCompletion(uint64_t user_data, int res, uint32_t flags) {
  Op op = static_cast<Op>(user_data & 7);
  size_t slot = user_data >> 3;
  if (op == kAccept) {
    if (res >= 0) OnAccept(res);
    if (!(flags & IORING_CQE_F_MORE)) ArmAccept();
    return;
  }
  Conn& c = *conns_[slot];
  bool ends =
      !(multishot_ && (op == kClientRecv || op == kUpstreamRecv) && (flags & IORING_CQE_F_MORE));
  if (ends) --c.in_flight;
  switch (op) {
    case kClientRecv:
    case kUpstreamRecv:
      OnRecv(slot, op == kUpstreamRecv, res, flags);
      break;
    case kClientSend:
    case kUpstreamSend:
      OnSent(slot, op == kUpstreamSend, res);
      break;
    default:
      break;
  }
  if (conns_[slot] != nullptr) MaybeFree(slot);
}

RelayCounters UringRelay::Run(const std::atomic<bool>& stop) {
  while (!stop.load(std::memory_order_relaxed)) {
    int err = io_uring_submit_and_wait(&ring_, 1);
    ++counters_.loop_turns;
    if (err < 0 && err != -EINTR && err != -EAGAIN && err != -EBUSY) {
      Die("io_uring_submit_and_wait", -err);
    }
    unsigned head;
    unsigned seen = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      OnCompletion(cqe->user_data, cqe->res, cqe->flags);
      ++seen;
    }
    io_uring_cq_advance(&ring_, seen);
  }
  return counters_;
}

}  // namespace

RelayCounters RunUringRelay(const UringOptions& options, int listen_fd, uint16_t origin_port,
                            const std::atomic<bool>& stop) {
  UringRelay relay(options, listen_fd, origin_port);
  return relay.Run(stop);
}

}  // namespace uring_relay
