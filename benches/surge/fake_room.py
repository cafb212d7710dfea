#!/usr/bin/env python3
"""A stand-in waiting room + shop, only to check shoppers.py's queue path.

Not a benchmark and not tidegate: a FIFO room that lets `--rate` new shoppers
in per second, speaking the interface tidegate's room speaks to shoppers
(../../shared/spec/interface.md): a `tg_wait_shop` cookie and a queue page
for a queued visitor, `GET /.tidegate/queue` answering
{"in_queue", "position", "estimated_wait_seconds": [lo, hi], "refresh_seconds"},
a `tg_pass_shop` cookie once admitted. Behind the room every shop page is a
tiny 200 HTML page; POST /checkout answers 200.

    python3 benches/surge/fake_room.py --port 0 --rate 5
    # prints "fake_room listening on 127.0.0.1:PORT", serves until SIGTERM/SIGINT
"""

import argparse
import http.server
import json
import signal
import sys
import threading
import time


class Room:
    def __init__(self, rate):
        self.rate = rate
        self.lock = threading.Lock()
        self.start = time.monotonic()
        self.tickets = 0

    def serving(self):
        return int((time.monotonic() - self.start) * self.rate)

    def arrive(self):
        with self.lock:
            self.tickets += 1
            return self.tickets


def make_handler(room):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def cookies(self):
            jar = {}
            for part in self.headers.get("Cookie", "").split(";"):
                name, _, value = part.strip().partition("=")
                if name:
                    jar[name] = value
            return jar

        def send(self, status, body, ctype="text/html; charset=utf-8", cookies=()):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for c in cookies:
                self.send_header("Set-Cookie", c + "; Path=/; HttpOnly; SameSite=Lax")
            self.end_headers()
            self.wfile.write(data)

        def status_of(self, ticket):
            position = max(0, ticket - room.serving())
            lo = position / room.rate
            return {"in_queue": position > 0, "position": position,
                    "estimated_wait_seconds": [int(lo * 0.8), int(lo * 1.2) + 1],
                    "refresh_seconds": 1}

        def gate(self):
            """True when the visitor may see the shop; otherwise answers."""
            jar = self.cookies()
            if "tg_pass_shop" in jar:
                return True
            ticket = int(jar["tg_wait_shop"]) if jar.get("tg_wait_shop", "").isdigit() else None
            if ticket is None:
                ticket = room.arrive()
            if ticket <= room.serving():
                self.admitted = ["tg_pass_shop=1", "tg_wait_shop=; Max-Age=0"]
                return True
            self.send(200, "<!doctype html><title>queue</title><body>You are in line.</body>",
                      cookies=[f"tg_wait_shop={ticket}"])
            return False

        def do_GET(self):
            self.admitted = []
            if self.path.startswith("/.tidegate/queue"):
                jar = self.cookies()
                ticket = int(jar["tg_wait_shop"]) if jar.get("tg_wait_shop", "").isdigit() else 0
                self.send(200, json.dumps(self.status_of(ticket)), "application/json")
                return
            if self.gate():
                self.send(200, f"<!doctype html><body>{self.path}</body>", cookies=self.admitted)

        def do_POST(self):
            self.admitted = []
            length = int(self.headers.get("Content-Length", "0"))
            self.rfile.read(length)
            if self.gate():
                self.send(200, "<!doctype html><body>done</body>", cookies=self.admitted)

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--rate", type=float, default=5.0, help="admissions per second")
    args = p.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(Room(args.rate)))
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"fake_room listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
