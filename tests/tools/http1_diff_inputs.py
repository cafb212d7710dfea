#!/usr/bin/env python3
"""Inputs for tests/tools/http1_diff.sh (not part of the build).

  http1_diff_inputs.py OUT_DIR COUNT SEED [SOURCE.cc ...]

Writes fuzz-format files (byte 0: bit 0 response, bit 1 HEAD request; byte 1
unused): the HTTP messages found as string literals in the given test
sources (adjacent literals joined), then COUNT seeded random messages built
from request/response templates with framing variants (CL/TE, odd methods,
versions, obs-fold, bare CR/LF, chunk sizes, absolute-form targets) and byte
mutations (flip, insert, delete).
"""
import os
import random
import re
import sys

out, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(out, exist_ok=True)
rng = random.Random(seed)
n = 0


def write(kind, data):
    global n
    with open(os.path.join(out, "%05d" % n), "wb") as f:
        f.write(bytes([kind, 0]) + data)
    n += 1


LIT = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


def unescape(s):
    return s.encode("latin-1").decode("unicode_escape").encode("latin-1")


for src in sys.argv[4:]:
    text = open(src, encoding="utf-8", errors="replace").read()
    # Join adjacent literals ("a" "b" across lines).
    for m in re.finditer(r'(?:"(?:[^"\\\n]|\\.)*"\s*)+', text):
        parts = LIT.findall(m.group(0))
        try:
            data = b"".join(unescape(p) for p in parts)
        except Exception:
            continue
        if b"HTTP/" not in data:
            continue
        kind = 1 if data.startswith(b"HTTP/") else 0
        write(kind, data)
        if kind == 1:
            write(3, data)

METHODS = [b"GET", b"POST", b"HEAD", b"PUT", b"DELETE", b"OPTIONS", b"CONNECT", b"PATCH",
           b"PRI", b"QUERY", b"DESCRIBE", b"SETUP", b"PLAY", b"PAUSE", b"SOURCE", b"M-SEARCH",
           b"MKCOL", b"PROPFIND", b"get", b"GETX", b"GE", b"FOO", b"GET_PARAMETER", b"TEARDOWN",
           b"FLUSH", b"RECORD", b"REDIRECT", b"ANNOUNCE", b"LINK", b"UNLINK", b"PURGE", b"ACL"]
VERSIONS = [b"HTTP/1.1", b"HTTP/1.0", b"HTTP/1.2", b"HTTP/2.0", b"HTTP/0.9", b"HTTP/3.1",
            b"HTTP/12.0", b"HTTP/1.10", b"HTTQ/1.1", b"http/1.1", b"HTTP/1", b"RTSP/1.0",
            b"ICE/1.0", b"HTTP/1.1 ", b"HTTX/2.0", b"HTTP.1.1", b"HTTP 1.1", b"HT/1.1",
            b"RTSP/2.0", b"HTTPS/1.1"]
TARGETS = [b"/", b"/a?b=c", b"*", b"http://shop.test/x?y", b"https://shop.test",
           b"http://shop.test?q", b"http://shop.test:8080/", b"http://u@shop.test/",
           b"http://[::1]/", b"HTTP://SHOP.TEST/p", b"ftp://shop.test/", b"http:/shop.test/",
           b"http://shop.test:99999/", b"http://sh_op.test/", b"//x", b"/a b", b"/\x7f",
           b"/#f", b"http://shop.test:/", b"shop.test:80", b"/%zz", b"http://a@b@c/"]
HOSTS = [b"shop.test", b"SHOP.test:8080", b"", b"a@b", b"[::1]", b"sh op", b"shop.test, x"]
LE = [b"\r\n", b"\n", b"\r", b"\r\r\n"]


def field_lines():
    lines = []
    for _ in range(rng.randint(0, 5)):
        lines.append(rng.choice([b"Accept: */*", b"X-A: b", b"User-Agent: t", b"Cookie: a=b",
                                 b"Connection: keep-alive", b"Connection: close",
                                 b"Connection: Upgrade", b"Upgrade: websocket",
                                 b"Expect: 100-continue", b"X-E:", b"X-S:  spaced  ",
                                 b" folded", b"\tfolded", b"Bad Name: x", b"X-C: a\x01b",
                                 b"X-U: \xc3\xa9", b"Date: x", b":empty", b"X-L: " + b"a" * 200]))
    return lines


def framing(body):
    choice = rng.randint(0, 14)
    if choice == 0:
        return [], b""
    if choice <= 3:
        return [b"Content-Length: %d" % len(body)], body
    if choice == 4:
        return [b"Content-Length: %d" % len(body), b"Content-Length: %d" % len(body)], body
    if choice == 5:
        return [b"Content-Length: %d" % len(body), b"Transfer-Encoding: chunked"], body
    if choice == 6:
        return [rng.choice([b"Content-Length: +5", b"Content-Length: 5 5", b"Content-Length: 0x5",
                            b"Content-Length: 99999999999999999999", b"Content-Length: 5, 5",
                            b"Content-Length:", b"Content-Length: 100000"])], body
    te = rng.choice([b"chunked", b"Chunked", b"gzip, chunked", b"chunked, gzip", b"gzip",
                     b"chunked ", b"identity"])
    chunks = b""
    rest = body
    while rest:
        k = rng.randint(1, max(1, len(rest)))
        size = rng.choice([b"%x" % k, b"%X" % k, b"0%x" % k, b"%x " % k, b"%x;ext=1" % k,
                           b"%x ;e" % k, b" %x" % k, b"%x\x01" % k, b"-%x" % k,
                           b"%x\t;e" % k, b"%x \t;e=1" % k, b"%x;e = v" % k, b"%x; e" % k])
        chunks += size + rng.choice(LE[:2] * 6 + LE) + rest[:k] + rng.choice([b"\r\n"] * 8 + LE)
        rest = rest[k:]
    chunks += rng.choice([b"0\r\n\r\n", b"0\r\n\r\n", b"0\r\nT: v\r\n\r\n", b"000\r\n\r\n",
                          b"0\n\n", b"0\r\n", b"0;x\r\n\r\n", b"0\r\n bad\r\n\r\n"])
    lines = [b"Transfer-Encoding: " + te]
    if rng.random() < 0.1:
        lines.append(b"Transfer-Encoding: chunked")
    return lines, chunks


def message(response):
    body = bytes(rng.choice(b"abcxyz\r\n0") for _ in range(rng.choice([0, 0, 1, 5, 17, 40])))
    if response:
        status = rng.choice([b"200", b"204", b"304", b"100", b"103", b"101", b"404", b"99",
                             b"600", b"2000", b"20", b"200"])
        reason = rng.choice([b" OK", b" OK", b"", b" ", b" A\x01B", b" Not Found"])
        start = rng.choice(VERSIONS[:7] + [b"HTTP/1.1"] * 6) + b" " + status + reason
        lines = field_lines()
    else:
        start = (rng.choice(METHODS[:8] * 4 + METHODS) + rng.choice([b" "] * 10 + [b"  "]) +
                 rng.choice(TARGETS) + b" " + rng.choice(VERSIONS[:2] * 6 + VERSIONS))
        lines = field_lines()
        if rng.random() < 0.9:
            lines.insert(rng.randint(0, len(lines)), b"Host: " + rng.choice(HOSTS[:1] * 6 + HOSTS))
        if rng.random() < 0.05:
            lines.append(b"Host: shop.test")
    flines, payload = framing(body)
    lines[rng.randint(0, len(lines)):rng.randint(0, len(lines))] = flines
    le = lambda: rng.choice([b"\r\n"] * 20 + LE)
    data = (b"\r\n" if rng.random() < 0.05 else b"") + start + le()
    for l in lines:
        data += l + le()
    data += le() + payload
    return data


for _ in range(count):
    response = rng.random() < 0.45
    data = message(response)
    if rng.random() < 0.3:
        data += message(response)  # pipelined
    for _ in range(rng.choice([0, 0, 0, 1, 1, 2, 4])):
        if not data:
            break
        i = rng.randrange(len(data))
        op = rng.randint(0, 2)
        if op == 0:
            data = data[:i] + bytes([data[i] ^ (1 << rng.randint(0, 7))]) + data[i + 1:]
        elif op == 1:
            data = data[:i] + bytes([rng.choice(b"\r\n :;\t\x00\x7f\xff0aZ-")]) + data[i:]
        else:
            data = data[:i] + data[i + 1:]
    kind = (1 if response else 0) | (2 if response and rng.random() < 0.15 else 0)
    write(kind, data)
print(n, "files in", out)
