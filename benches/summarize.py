#!/usr/bin/env python3
"""Summarize the raw wrk results written by run_passthrough.sh.

Input: a CSV with the header
    round,page,target,rps,p50_us,p99_us,socket_errors,non2xx,ok,note,requests,cpu_us_per_req
one line per wrk run (cpu_us_per_req = CPU time of the server process per
request, user + system; the origin's CPU is not included for the proxies). Output (stdout, Markdown): medians per page and target
over the successful runs, then tidegate's ratios to each peer and to the
better peer, checked against issue 15's targets, each against the peer that
is better on that figure: CPU per request <= 0.80x the lower of the peers',
req/s >= 1.10x the higher, p99 <= 1.00x the lower.

Exit status: 0 when every run succeeded, 1 when any run failed (the table is
still printed; failed runs are excluded from the medians and counted).
"""
import argparse
import csv
import statistics
import sys

PEERS = ("nginx", "haproxy")
TARGET_RPS_RATIO = 1.10
TARGET_P99_RATIO = 1.00
TARGET_CPU_RATIO = 0.80


def fmt_ms(us):
    return "-" if us is None else f"{us / 1000.0:.3f} ms"


def fmt_rps(rps):
    return "-" if rps is None else f"{rps:,.0f}"


def fmt_cpu(us):
    return "-" if us is None else f"{us:.1f} µs"


def ratio(a, b):
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}"


def median(values):
    return statistics.median(values) if values else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("raw_csv")
    ap.add_argument("--per-run", action="store_true", help="also list every run")
    args = ap.parse_args()

    with open(args.raw_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        print("no runs recorded", file=sys.stderr)
        return 1

    pages, targets = [], []
    for r in rows:
        if r["page"] not in pages:
            pages.append(r["page"])
        if r["target"] not in targets:
            targets.append(r["target"])

    stats = {}  # (page, target) -> dict
    any_failed = False
    for page in pages:
        for target in targets:
            runs = [r for r in rows if r["page"] == page and r["target"] == target]
            if not runs:
                continue
            ok = [r for r in runs if r["ok"] == "1"]
            any_failed |= len(ok) != len(runs)
            stats[(page, target)] = {
                "runs": len(runs),
                "ok": len(ok),
                "rps": median([float(r["rps"]) for r in ok]),
                "p50": median([float(r["p50_us"]) for r in ok]),
                "p99": median([float(r["p99_us"]) for r in ok]),
                "cpu": median([float(r["cpu_us_per_req"]) for r in ok
                               if r.get("cpu_us_per_req")]),
            }

    print("### Medians over successful runs\n")
    print("| page | target | ok runs | req/s | p50 | p99 | CPU / request |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for page in pages:
        for target in targets:
            s = stats.get((page, target))
            if s is None:
                continue
            print(f"| {page} | {target} | {s['ok']}/{s['runs']} | {fmt_rps(s['rps'])} | "
                  f"{fmt_ms(s['p50'])} | {fmt_ms(s['p99'])} | {fmt_cpu(s['cpu'])} |")

    tg = "tidegate"
    if tg in targets and any(p in targets for p in PEERS):
        print("\n### tidegate compared with the peers\n")
        print("req/s ratio = tidegate / peer (higher is better, target >= "
              f"{TARGET_RPS_RATIO:.2f}); p99 ratio = tidegate / peer "
              f"(lower is better, target <= {TARGET_P99_RATIO:.2f}).\n")
        print("CPU ratio = tidegate's CPU time per request / peer's (lower is better, "
              f"target <= {TARGET_CPU_RATIO:.2f}; the least noisy figure on a loaded machine). "
              "\"best peers\": each figure against the peer that is better on it.\n")
        print("| page | versus | req/s ratio | p99 ratio | CPU ratio | target met |")
        print("|---|---|---:|---:|---:|---|")
        for page in pages:
            t = stats.get((page, tg))
            peers = [(p, stats.get((page, p))) for p in PEERS]
            peers = [(p, s) for p, s in peers if s and s["rps"] is not None]
            if not t or t["rps"] is None or not peers:
                print(f"| {page} | - | - | - | no data |")
                continue
            for name, s in peers:
                print(f"| {page} | {name} | {t['rps'] / s['rps']:.2f} | "
                      f"{t['p99'] / s['p99']:.2f} | {ratio(t['cpu'], s['cpu'])} | |")
            rr = t["rps"] / max(s["rps"] for _, s in peers)
            pr = t["p99"] / min(s["p99"] for _, s in peers)
            cpus = [s["cpu"] for _, s in peers if s.get("cpu")]
            cr = t["cpu"] / min(cpus) if t.get("cpu") and cpus else None
            missed = []
            if rr < TARGET_RPS_RATIO:
                missed.append(f"req/s {rr:.2f} < {TARGET_RPS_RATIO:.2f}")
            if pr > TARGET_P99_RATIO:
                missed.append(f"p99 {pr:.2f} > {TARGET_P99_RATIO:.2f}")
            if cr is None or cr > TARGET_CPU_RATIO:
                missed.append("CPU " + ("?" if cr is None else f"{cr:.2f}") +
                              f" > {TARGET_CPU_RATIO:.2f}")
            verdict = "yes" if not missed else "no (" + ", ".join(missed) + ")"
            print(f"| {page} | best peers | **{rr:.2f}** | **{pr:.2f}** | "
                  f"**{'-' if cr is None else f'{cr:.2f}'}** | {verdict} |")

    if args.per_run:
        print("\n### Every run\n")
        print("| round | page | target | req/s | p50 | p99 | CPU / request | socket errors | "
              "non-2xx/3xx | ok |")
        print("|---:|---|---|---:|---:|---:|---:|---:|---:|---|")
        for r in rows:
            rps = float(r["rps"]) if r["rps"] else None
            p50 = float(r["p50_us"]) if r["p50_us"] else None
            p99 = float(r["p99_us"]) if r["p99_us"] else None
            status = "yes" if r["ok"] == "1" else f"FAILED: {r['note']}"
            cpu = float(r["cpu_us_per_req"]) if r.get("cpu_us_per_req") else None
            print(f"| {r['round']} | {r['page']} | {r['target']} | {fmt_rps(rps)} | "
                  f"{fmt_ms(p50)} | {fmt_ms(p99)} | {fmt_cpu(cpu)} | {r['socket_errors']} | "
                  f"{r['non2xx']} | {status} |")

    if any_failed:
        print("\nSome runs FAILED (non-2xx/3xx responses, socket errors or no output); "
              "they are excluded from the medians.")
    return 1 if any_failed else 0


if __name__ == "__main__":
    sys.exit(main())
