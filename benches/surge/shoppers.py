#!/usr/bin/env python3
"""Surge load generator: simulated shoppers arriving at a fixed rate.

Python 3 standard library only (asyncio, raw sockets, HTTP/1.1 keep-alive).

Each shopper:
  1. arrives (ARRIVAL), opens its own connection and keeps its own cookies;
  2. GET /  — if it meets a waiting room (a `tg_wait_*` cookie without a
     `tg_pass_*`, or JSON {"in_queue": true}), it is QUEUED: it polls
     /.tidegate/queue every `refresh_seconds` (from the JSON, default 5 s)
     until the answer says it is no longer in the queue, then asks for the
     page again; it gives up after --patience seconds;
  3. once it gets a shop page it is ADMITTED and browses with think times:
     home → product → POST /cart → GET /checkout → POST /checkout;
     a 200 on the POST /checkout is a completed CHECKOUT;
  4. any 5xx (not a queue page) is an ORIGIN ERROR: the shopper retries the
     step after a second, at most --retries times, then leaves; a request
     without an answer in --timeout seconds is a TIMEOUT and the shopper
     leaves.

Arrivals stop after --duration seconds; shoppers still inside then get up to
--drain seconds to finish; everything is cancelled at the end (the run is
always bounded: duration + drain + a few seconds).

Output: a per-second CSV time series (--csv), a JSON summary (--summary-json)
and a human summary on stdout.
"""

import argparse
import asyncio
import collections
import json
import math
import random
import sys
import time

QUEUE_PATH = "/.tidegate/queue"


class Recorder:
    """Per-second counters and gauges, and totals, for one run."""

    def __init__(self, start):
        self.start = start
        self.buckets = collections.defaultdict(lambda: collections.Counter())
        self.latencies = collections.defaultdict(list)  # second -> [ms] (admitted shoppers)
        self.origin_waits = collections.defaultdict(list)  # second -> [ms] (Demo-Shop-Wait-Ms)
        self.totals = collections.Counter()
        self.all_latencies = []
        self.queue_waits = []  # seconds from first queue page to admission
        self.eta_errors = []  # (actual - estimate midpoint), seconds
        self.eta_in_range = 0
        self.eta_samples = 0
        self.queued_now = 0
        self.inside_now = 0
        self.gauges = {}  # second -> (queued, inside)

    def second(self):
        return int(time.monotonic() - self.start)

    def count(self, what, n=1):
        self.buckets[self.second()][what] += n
        self.totals[what] += n

    def latency(self, ms, origin_wait_ms):
        s = self.second()
        self.latencies[s].append(ms)
        self.all_latencies.append(ms)
        if origin_wait_ms is not None:
            self.origin_waits[s].append(origin_wait_ms)

    def sample_gauges(self):
        self.gauges[self.second()] = (self.queued_now, self.inside_now)


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    k = max(0, min(len(values) - 1, int(math.ceil(p / 100.0 * len(values))) - 1))
    return values[k]


class Response:
    __slots__ = ("status", "headers", "body", "cookies")

    def __init__(self):
        self.status = 0
        self.headers = {}
        self.body = b""
        self.cookies = []


class Timeout(Exception):
    pass


class Client:
    """One shopper's keep-alive connection and cookie jar."""

    def __init__(self, host, port, timeout):
        self.host, self.port, self.timeout = host, port, timeout
        self.reader = self.writer = None
        self.jar = {}

    async def close(self):
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (OSError, asyncio.CancelledError):
                pass
        self.reader = self.writer = None

    async def request(self, method, path, body=None, accept="text/html"):
        try:
            return await asyncio.wait_for(self._request(method, path, body, accept), self.timeout)
        except asyncio.TimeoutError:
            await self.close()
            raise Timeout()

    async def _request(self, method, path, body, accept):
        for attempt in (0, 1):  # a stale keep-alive connection is reopened once
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
                fresh = True
            else:
                fresh = False
            head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                    f"Accept: {accept}", "User-Agent: tidegate-surge"]
            if self.jar:
                head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.jar.items()))
            data = body.encode() if body is not None else b""
            if body is not None:
                head.append("Content-Type: application/x-www-form-urlencoded")
                head.append(f"Content-Length: {len(data)}")
            raw = ("\r\n".join(head) + "\r\n\r\n").encode() + data
            try:
                self.writer.write(raw)
                await self.writer.drain()
                response = await self._read_response(method)
            except (ConnectionError, asyncio.IncompleteReadError, OSError):
                await self.close()
                if fresh or attempt == 1:
                    raise
                continue
            for cookie in response.cookies:
                name, _, rest = cookie.partition("=")
                value = rest.split(";", 1)[0]
                attrs = rest.lower()
                if "max-age=0" in attrs or "expires=thu, 01 jan 1970" in attrs or value == "":
                    self.jar.pop(name.strip(), None)
                else:
                    self.jar[name.strip()] = value
            if response.headers.get("connection", "").lower() == "close":
                await self.close()
            return response
        raise ConnectionError("unreachable")

    async def _read_response(self, method):
        r = Response()
        line = await self.reader.readuntil(b"\r\n")
        parts = line.decode("latin-1").split(" ", 2)
        r.status = int(parts[1])
        while True:
            line = await self.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                r.cookies.append(value)
            r.headers[name] = value
        if method == "HEAD" or r.status in (204, 304) or 100 <= r.status < 200:
            return r
        if r.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    while (await self.reader.readuntil(b"\r\n")) != b"\r\n":
                        pass
                    break
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            r.body = b"".join(chunks)
        elif "content-length" in r.headers:
            r.body = await self.reader.readexactly(int(r.headers["content-length"]))
        else:
            r.body = await self.reader.read()
            await self.close()
        return r


WAIT_PREFIXES = ("tg_wait_", "__Host-tg_wait_")
PASS_PREFIXES = ("tg_pass_", "__Host-tg_pass_")


def queue_info(response, jar):
    """The queue JSON when this response is a waiting-room answer, else None.

    A room answer is JSON {"in_queue": true, ...}, or any answer after which
    the shopper holds a wait cookie and no pass cookie (the jar already
    reflects this response's Set-Cookie headers)."""
    if response.headers.get("content-type", "").startswith("application/json"):
        try:
            doc = json.loads(response.body)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and doc.get("in_queue"):
            return doc
    waiting = any(k.startswith(WAIT_PREFIXES) for k in jar)
    passed = any(k.startswith(PASS_PREFIXES) for k in jar)
    if waiting and not passed:
        return {}
    return None


class Shopper:
    def __init__(self, args, rec, rng):
        self.args, self.rec, self.rng = args, rec, rng
        self.client = Client(args.host, args.port, args.timeout)
        self.admitted = False

    async def think(self):
        lo, hi = self.args.think
        await asyncio.sleep(self.rng.uniform(lo, hi))

    async def page(self, method, path, body=None):
        """A shop request with retries on 5xx; returns the response or None (gave up)."""
        for attempt in range(self.args.retries + 1):
            t0 = time.monotonic()
            try:
                r = await self.client.request(method, path, body)
            except Timeout:
                self.rec.count("timeouts")
                return None
            except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError):
                self.rec.count("connect_errors")
                if attempt == self.args.retries:
                    return None
                await asyncio.sleep(1)
                continue
            ms = (time.monotonic() - t0) * 1000.0
            self.rec.count("requests")
            q = queue_info(r, self.client.jar)
            if q is not None:
                return await self.wait_in_queue(q, method, path, body)
            if r.status >= 500:
                self.rec.count("origin_errors")
                if self.admitted:
                    self.rec.latency(ms, None)
                if attempt == self.args.retries:
                    return None
                await asyncio.sleep(1)
                continue
            if not self.admitted:
                self.admitted = True
                self.rec.count("admitted")
                self.rec.inside_now += 1
            wait = r.headers.get("demo-shop-wait-ms")
            self.rec.latency(ms, float(wait) if wait and wait.isdigit() else None)
            return r
        return None

    async def wait_in_queue(self, info, method, path, body):
        if self.admitted:  # bounced back into a queue from inside: count it
            self.rec.count("requeued")
        self.rec.count("queued_total")
        self.rec.queued_now += 1
        t_first = time.monotonic()
        estimate = info.get("estimated_wait_seconds") if isinstance(info, dict) else None
        t_estimate = t_first
        refresh = float(info.get("refresh_seconds") or self.args.refresh) if info else self.args.refresh
        try:
            while time.monotonic() - t_first < self.args.patience:
                await asyncio.sleep(max(0.2, min(refresh, 60.0)))
                try:
                    r = await self.client.request("GET", QUEUE_PATH, accept="application/json")
                except Timeout:
                    self.rec.count("timeouts")
                    continue
                except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError):
                    self.rec.count("connect_errors")
                    continue
                self.rec.count("queue_polls")
                try:
                    doc = json.loads(r.body) if r.body else {}
                except ValueError:
                    doc = {}
                if not isinstance(doc, dict):
                    doc = {}
                if estimate is None and doc.get("estimated_wait_seconds"):
                    estimate = doc["estimated_wait_seconds"]
                    t_estimate = time.monotonic()
                if doc.get("refresh_seconds"):
                    refresh = float(doc["refresh_seconds"])
                if r.status < 500 and not doc.get("in_queue", True):
                    break
            else:
                self.rec.count("abandoned_queue")
                return None
        finally:
            self.rec.queued_now -= 1
        now = time.monotonic()
        self.rec.queue_waits.append(now - t_first)
        if isinstance(estimate, list) and len(estimate) == 2:
            # The first estimate the shopper saw against the wait that followed it.
            lo, hi = float(estimate[0]), float(estimate[1])
            actual = now - t_estimate
            self.rec.eta_samples += 1
            self.rec.eta_errors.append(actual - (lo + hi) / 2.0)
            if lo <= actual <= hi:
                self.rec.eta_in_range += 1
        # Admitted by the room: ask for the page again.
        return await self.page(method, path, body)

    async def visit(self):
        self.rec.count("arrivals")
        try:
            if await self.page("GET", "/") is None:
                return
            await self.think()
            product = self.rng.randint(1, 6)
            if await self.page("GET", f"/products/{product}") is None:
                return
            await self.think()
            r = await self.page("POST", "/cart", f"product_id={product}&quantity=1")
            if r is None:
                return
            await self.think()
            if await self.page("GET", "/checkout") is None:
                return
            await self.think()
            r = await self.page("POST", "/checkout",
                                "shipping_method=standard&payment_method=card")
            if r is not None and r.status == 200:
                self.rec.count("checkouts")
            else:
                self.rec.count("checkout_failed")
        finally:
            if self.admitted:
                self.rec.inside_now -= 1
            await self.client.close()


async def run(args):
    rng = random.Random(args.seed)
    start = time.monotonic()
    rec = Recorder(start)
    tasks = set()

    async def gauges():
        while True:
            rec.sample_gauges()
            await asyncio.sleep(0.5)

    sampler = asyncio.ensure_future(gauges())
    # Poisson arrivals at --rate per second for --duration seconds.
    t_next = start
    end_arrivals = start + args.duration
    while True:
        t_next += rng.expovariate(args.rate)
        if t_next >= end_arrivals:
            break
        delay = t_next - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(tasks) >= args.max_shoppers:
            rec.count("not_started")  # generator limit reached; reported
            continue
        task = asyncio.ensure_future(Shopper(args, rec, random.Random(rng.random())).visit())
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    remaining = max(0.0, end_arrivals - time.monotonic())
    await asyncio.sleep(remaining)
    pending = list(tasks)
    if pending:
        await asyncio.wait(pending, timeout=args.drain)
    pending = [t for t in pending if not t.done()]
    left = len(pending)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=5)
    sampler.cancel()
    rec.sample_gauges()
    elapsed = time.monotonic() - start
    return rec, elapsed, left


def write_csv(rec, path):
    last = max(list(rec.buckets) + list(rec.gauges) + [0])
    queued, inside = 0, 0
    with open(path, "w") as f:
        f.write("second,arrivals,queued,inside,admitted,requests,origin_errors,timeouts,"
                "latency_p50_ms,latency_p99_ms,origin_wait_p99_ms,checkouts\n")
        for s in range(last + 1):
            b = rec.buckets.get(s, collections.Counter())
            queued, inside = rec.gauges.get(s, (queued, inside))
            lat = rec.latencies.get(s, [])
            ow = rec.origin_waits.get(s, [])
            p50 = percentile(lat, 50)
            p99 = percentile(lat, 99)
            owp = percentile(ow, 99)
            fmt = lambda v: "" if v is None else f"{v:.1f}"
            f.write(f"{s},{b['arrivals']},{queued},{inside},{b['admitted']},{b['requests']},"
                    f"{b['origin_errors']},{b['timeouts']},{fmt(p50)},{fmt(p99)},{fmt(owp)},"
                    f"{b['checkouts']}\n")


def summarize(args, rec, elapsed, left):
    t = rec.totals
    queued_seconds = [s for s, (q, _) in rec.gauges.items() if q > 0]
    admitted_while_queue = 0
    if queued_seconds:
        qs = set(queued_seconds)
        admitted_while_queue = sum(rec.buckets[s]["admitted"] for s in qs if s in rec.buckets)
    summary = {
        "label": args.label,
        "duration_s": args.duration,
        "elapsed_s": round(elapsed, 1),
        "rate_per_s": args.rate,
        "arrivals": t["arrivals"],
        "not_started": t["not_started"],
        "admitted": t["admitted"],
        "queued_total": t["queued_total"],
        "abandoned_queue": t["abandoned_queue"],
        "requests": t["requests"],
        "origin_errors": t["origin_errors"],
        "origin_error_pct": round(100.0 * t["origin_errors"] / t["requests"], 2)
        if t["requests"] else 0.0,
        "timeouts": t["timeouts"],
        "connect_errors": t["connect_errors"],
        "checkouts": t["checkouts"],
        "checkouts_per_min": round(t["checkouts"] * 60.0 / elapsed, 1) if elapsed else 0.0,
        "latency_p50_ms": percentile(rec.all_latencies, 50),
        "latency_p99_ms": percentile(rec.all_latencies, 99),
        "unfinished_at_end": left,
        "queue_seconds": len(queued_seconds) / 2.0,  # gauges are sampled every 0.5 s
        "admission_per_min_while_queued": round(
            admitted_while_queue * 60.0 / max(1, len(set(queued_seconds))), 1)
        if queued_seconds else None,
        "target_admission_per_min": args.target_per_min,
        "queue_wait_p50_s": percentile(rec.queue_waits, 50),
        "queue_wait_p99_s": percentile(rec.queue_waits, 99),
        "eta_samples": rec.eta_samples,
        "eta_abs_error_p50_s": percentile([abs(e) for e in rec.eta_errors], 50),
        "eta_in_range_pct": round(100.0 * rec.eta_in_range / rec.eta_samples, 1)
        if rec.eta_samples else None,
    }
    for k in ("latency_p50_ms", "latency_p99_ms", "queue_wait_p50_s", "queue_wait_p99_s",
              "eta_abs_error_p50_s"):
        if summary[k] is not None:
            summary[k] = round(summary[k], 1)
    return summary


def print_summary(s, out):
    na = lambda v: "n/a" if v is None else v
    print(f"surge [{s['label']}]: {s['arrivals']} shoppers arrived in {s['duration_s']} s "
          f"({s['rate_per_s']}/s), run {s['elapsed_s']} s", file=out)
    print(f"  admitted {s['admitted']}, queued at least once {s['queued_total']}, "
          f"gave up in queue {s['abandoned_queue']}, unfinished at the end "
          f"{s['unfinished_at_end']}", file=out)
    print(f"  requests {s['requests']}: origin errors (5xx) {s['origin_errors']} "
          f"({s['origin_error_pct']} %), timeouts {s['timeouts']}, "
          f"connect errors {s['connect_errors']}", file=out)
    print(f"  latency of admitted shoppers' requests: p50 {na(s['latency_p50_ms'])} ms, "
          f"p99 {na(s['latency_p99_ms'])} ms", file=out)
    print(f"  checkouts {s['checkouts']} ({s['checkouts_per_min']}/min)", file=out)
    print(f"  admission while a queue existed: {na(s['admission_per_min_while_queued'])}/min "
          f"(target {na(s['target_admission_per_min'])}/min); queue wait p50 "
          f"{na(s['queue_wait_p50_s'])} s, p99 {na(s['queue_wait_p99_s'])} s", file=out)
    print(f"  ETA: {s['eta_samples']} estimates, |error| p50 {na(s['eta_abs_error_p50_s'])} s, "
          f"actual wait inside the range {na(s['eta_in_range_pct'])} %", file=out)
    if s["not_started"]:
        print(f"  WARNING: {s['not_started']} arrivals not started (--max-shoppers reached)",
              file=out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--rate", type=float, required=True, help="arrivals per second")
    p.add_argument("--duration", type=float, default=30.0, help="seconds of arrivals")
    p.add_argument("--drain", type=float, default=20.0,
                   help="seconds left to shoppers inside after the arrivals stop")
    p.add_argument("--think", type=float, nargs=2, default=(0.5, 1.5), metavar=("MIN", "MAX"),
                   help="think time between pages, uniform, seconds")
    p.add_argument("--timeout", type=float, default=10.0, help="per request, seconds")
    p.add_argument("--retries", type=int, default=1, help="retries of a step after a 5xx")
    p.add_argument("--patience", type=float, default=300.0, help="seconds in a queue at most")
    p.add_argument("--refresh", type=float, default=5.0,
                   help="queue poll interval when the queue does not say")
    p.add_argument("--max-shoppers", type=int, default=5000,
                   help="concurrent shoppers at most (file descriptors)")
    p.add_argument("--target-per-min", type=float, default=None,
                   help="the room's new_users_per_minute, for the report")
    p.add_argument("--label", default="run")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--csv", help="per-second time series")
    p.add_argument("--summary-json", help="summary as one JSON object")
    args = p.parse_args(argv)
    if args.rate <= 0 or args.duration <= 0:
        p.error("--rate and --duration must be positive")
    rec, elapsed, left = asyncio.run(run(args))
    if args.csv:
        write_csv(rec, args.csv)
    s = summarize(args, rec, elapsed, left)
    if args.summary_json:
        with open(args.summary_json, "w") as f:
            json.dump(s, f)
            f.write("\n")
    print_summary(s, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
