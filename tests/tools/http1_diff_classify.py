#!/usr/bin/env python3
"""Classifies the differences between two http1_diff transcripts.

  http1_diff_classify.py BASE.txt NEW.txt [--show N] [--reasons]

Per input file and cut, a transcript differs "only in reason" when the
same lines remain after dropping the reason text of ERROR/EOF-error lines
and, after an ERROR, the count of bytes left unconsumed;
anything else (another status, accept vs reject, other heads, bodies or
byte counts) is a real difference and is listed.
"""
import collections
import re
import sys


def parse(path):
    files = collections.OrderedDict()
    name, split = None, None
    for line in open(path, encoding="latin-1"):
        line = line.rstrip("\n")
        if line.startswith("== "):
            name, split = line[3:], "whole"
            files[name] = collections.OrderedDict({split: []})
        elif line.startswith("-- split "):
            split = line.split()[2]
            files[name][split] = []
        else:
            files[name][split].append(line)
    return files


def strip_reason(lines):
    # After an error the caller answers and closes: how many bytes were
    # left unconsumed then is not observable.
    failed = any(l.startswith("ERROR ") for l in lines)
    out = []
    for l in lines:
        if failed and l.startswith("LEFT "):
            continue
        m = re.match(r"^(ERROR \d+) ", l)
        if m:
            out.append(m.group(1))
            continue
        m = re.match(r"^(EOF .* error \d+) ", l)
        out.append(m.group(1) if m else l)
    return out


base, new = parse(sys.argv[1]), parse(sys.argv[2])
show = int(sys.argv[sys.argv.index("--show") + 1]) if "--show" in sys.argv else 10
reason_only, real = [], []
reason_pairs = collections.Counter()
for name in base:
    b, n = base[name], new.get(name, {})
    # A cut missing on one side means its transcript equalled the whole one.
    for split in set(b) | set(n):
        bl = b.get(split, b["whole"])
        nl = n.get(split, n.get("whole", []))
        if bl == nl:
            continue
        if strip_reason(bl) == strip_reason(nl):
            reason_only.append((name, split))
            for x, y in zip(bl, nl):
                if x != y:
                    reason_pairs[(x, y)] += 1
        else:
            real.append((name, split, bl, nl))
real_files = collections.OrderedDict()
for name, split, bl, nl in real:
    real_files.setdefault(name, []).append((split, bl, nl))
print("inputs: %d; cuts differing only in the reason: %d (%d inputs); real: %d cuts in %d inputs"
      % (len(base), len(reason_only), len(set(x for x, _ in reason_only)), len(real),
         len(real_files)))
if "--reasons" in sys.argv:
    for (x, y), c in reason_pairs.most_common():
        print("%6d  %s  ->  %s" % (c, x, y))
for name in list(real_files)[:show]:
    split, bl, nl = real_files[name][0]
    print("### %s (%d cuts differ; first: %s)" % (name, len(real_files[name]), split))
    for l in bl:
        print("  base| " + l)
    for l in nl:
        print("  new | " + l)
