#!/usr/bin/env python3
"""Open many keep-alive HTTP/1.1 client connections and hold them idle.

Each connection sends one complete GET, reads the whole 200 response
(Content-Length or chunked), then stays open without sending anything.
At most --concurrency connections are being set up at any moment, so the
server's listen backlog never overflows.

Protocol with the caller (benches/idle_connections.sh), line based:
  stdout  "READY ok=N failed=M seconds=S"   once every connection is set up
                                             (or --timeout expired)
  stdin   "check"  → stdout "ALIVE n"        connections the server has not closed
  stdin   EOF      → close everything, exit 0
Failure reasons are summarized on stderr.
"""
import argparse
import collections
import errno
import resource
import selectors
import socket
import sys
import time


class Conn:
    __slots__ = ("sock", "state", "buf")

    def __init__(self, sock):
        self.sock = sock
        self.state = "connecting"
        self.buf = bytearray()


def response_complete(buf):
    """Returns (done, error) for the bytes of one HTTP response received so far."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return False, None
    head = bytes(buf[:end]).decode("latin-1").split("\r\n")
    status = head[0].split(" ")
    if len(status) < 2 or status[1] != "200":
        return True, "status " + (status[1] if len(status) > 1 else "?")
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = buf[end + 4:]
    if "content-length" in headers:
        return len(body) >= int(headers["content-length"]), None
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return body.endswith(b"0\r\n\r\n"), None
    return False, None  # close-delimited: never completes on a kept-alive socket


def open_all(args):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    request = (f"GET {args.path} HTTP/1.1\r\nHost: {args.host}:{args.port}\r\n"
               "User-Agent: tidegate-idle-bench\r\n\r\n").encode()
    sel = selectors.DefaultSelector()
    idle, failures = [], collections.Counter()
    started = pending = 0
    deadline = time.monotonic() + args.timeout

    def fail(conn, why):
        nonlocal pending
        failures[why] += 1
        sel.unregister(conn.sock)
        conn.sock.close()
        pending -= 1

    while (started < args.count or pending) and time.monotonic() < deadline:
        while started < args.count and pending < args.concurrency:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            started += 1
            err = s.connect_ex((args.host, args.port))
            if err not in (0, errno.EINPROGRESS):
                failures["connect: " + errno.errorcode.get(err, str(err))] += 1
                s.close()
                continue
            sel.register(s, selectors.EVENT_WRITE, Conn(s))
            pending += 1
        for key, _ in sel.select(timeout=0.5):
            conn = key.data
            if conn.state == "connecting":
                err = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    fail(conn, "connect: " + errno.errorcode.get(err, str(err)))
                    continue
                try:
                    conn.sock.send(request)  # tiny: fits the empty send buffer
                except OSError as e:
                    fail(conn, "send: " + errno.errorcode.get(e.errno, str(e.errno)))
                    continue
                conn.state = "reading"
                sel.modify(conn.sock, selectors.EVENT_READ, conn)
                continue
            try:
                data = conn.sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError as e:
                fail(conn, "recv: " + errno.errorcode.get(e.errno, str(e.errno)))
                continue
            if not data:
                fail(conn, "closed before a full response")
                continue
            conn.buf += data
            done, error = response_complete(conn.buf)
            if error:
                fail(conn, error)
            elif done:
                sel.unregister(conn.sock)
                pending -= 1
                conn.buf = None
                idle.append(conn.sock)
    for key in list(sel.get_map().values()):
        failures["timeout"] += 1
        key.fileobj.close()
    sel.close()
    failures["not started (timeout)"] += args.count - started
    return idle, +failures


def count_alive(idle):
    """Connections whose peer has not closed them (readable with EOF = closed)."""
    sel = selectors.DefaultSelector()
    for s in idle:
        sel.register(s, selectors.EVENT_READ)
    closed = 0
    for key, _ in sel.select(timeout=0):
        try:
            if key.fileobj.recv(1, socket.MSG_PEEK) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    sel.close()
    return len(idle) - closed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/tiny.html")
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--concurrency", type=int, default=200)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds to set everything up")
    args = ap.parse_args()

    t0 = time.monotonic()
    idle, failures = open_all(args)
    for why, n in failures.most_common():
        print(f"idle_clients: {n} connection(s) failed: {why}", file=sys.stderr)
    print(f"READY ok={len(idle)} failed={sum(failures.values())} "
          f"seconds={time.monotonic() - t0:.1f}", flush=True)
    for line in sys.stdin:
        if line.strip() == "check":
            print(f"ALIVE {count_alive(idle)}", flush=True)
    for s in idle:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
