#!/usr/bin/env python3
"""Reads a Prometheus text exposition (format 0.0.4) for the e2e tests.

  prom.py check FILE
      Fails (exit 1, one line per problem) unless FILE is well formed: every
      line a comment or `name{label="value",...} value`; every family has its
      # HELP and # TYPE before its first sample and its samples together;
      valid names, escapes and numbers; no series twice; counters >= 0;
      histograms with ascending `le` buckets, cumulative counts, a "+Inf"
      bucket equal to _count, and a _sum.
  prom.py get FILE NAME [LABEL=VALUE ...]
      The sum of the samples of NAME whose labels include every LABEL=VALUE
      given (0 when none); `--count` first prints how many matched instead.
  prom.py series FILE NAME
      Every sample of NAME as a JSON line {"labels": {...}, "value": v}.
"""
import json
import math
import re
import sys

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*$')
LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*$')
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def parse_labels(text, where, problems):
    """text is what is between the braces; returns a dict."""
    labels, i = {}, 0
    while i < len(text):
        m = re.match(r'([^=]*)="', text[i:])
        if not m:
            problems.append(f"{where}: bad label syntax at {text[i:]!r}")
            return labels
        name = m.group(1)
        if not LABEL.match(name):
            problems.append(f"{where}: bad label name {name!r}")
        i += m.end()
        value = []
        while True:
            if i >= len(text):
                problems.append(f"{where}: unterminated label value")
                return labels
            c = text[i]
            if c == '\\':
                nxt = text[i + 1:i + 2]
                if nxt not in ('\\', '"', 'n'):
                    problems.append(f"{where}: bad escape \\{nxt}")
                value.append({'\\': '\\', '"': '"', 'n': '\n'}.get(nxt, nxt))
                i += 2
                continue
            if c == '"':
                i += 1
                break
            if c == '\n':
                problems.append(f"{where}: raw newline in a label value")
            value.append(c)
            i += 1
        if name in labels:
            problems.append(f"{where}: label {name} twice")
        labels[name] = ''.join(value)
        if i < len(text):
            if text[i] != ',':
                problems.append(f"{where}: expected ',' at {text[i:]!r}")
                return labels
            i += 1
    return labels


def parse(path):
    """Returns (samples, types, problems); samples: [(name, labels, value, lineno)]."""
    samples, types, helps, problems = [], {}, {}, []
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    if lines and lines[-1] == '':
        lines.pop()
    else:
        problems.append("the text does not end with a newline")
    for n, line in enumerate(lines, 1):
        where = f"line {n}"
        if line.startswith('#'):
            parts = line.split(' ', 3)
            if len(parts) >= 3 and parts[1] in ('HELP', 'TYPE'):
                fam = parts[2]
                if not NAME.match(fam):
                    problems.append(f"{where}: bad family name {fam!r}")
                if parts[1] == 'TYPE':
                    t = parts[3] if len(parts) > 3 else ''
                    if t not in TYPES:
                        problems.append(f"{where}: unknown type {t!r}")
                    if fam in types:
                        problems.append(f"{where}: TYPE of {fam} twice")
                    types[fam] = (t, n)
                else:
                    if fam in helps:
                        problems.append(f"{where}: HELP of {fam} twice")
                    helps[fam] = n
            continue
        m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
        if not m:
            problems.append(f"{where}: not a sample line: {line!r}")
            continue
        labels = parse_labels(m.group(3) or '', where, problems)
        try:
            value = float(m.group(4))
        except ValueError:
            problems.append(f"{where}: bad value {m.group(4)!r}")
            continue
        samples.append((m.group(1), labels, value, n))
    # Families: declared before and contiguous.
    def family_of(name):
        for suffix in ('_bucket', '_sum', '_count'):
            base = name[:-len(suffix)] if name.endswith(suffix) else None
            if base and types.get(base, ('',))[0] in ('histogram', 'summary'):
                return base
        return name
    seen_series, last_fam, done_fams = set(), None, set()
    for name, labels, value, n in samples:
        fam = family_of(name)
        if fam not in types or types[fam][1] > n:
            problems.append(f"line {n}: {name} has no # TYPE before it")
        if fam not in helps or helps[fam] > n:
            problems.append(f"line {n}: {name} has no # HELP before it")
        if fam != last_fam:
            if fam in done_fams:
                problems.append(f"line {n}: the samples of {fam} are not together")
            if last_fam:
                done_fams.add(last_fam)
            last_fam = fam
        key = (name, tuple(sorted(labels.items())))
        if key in seen_series:
            problems.append(f"line {n}: series {name}{labels} twice")
        seen_series.add(key)
        t = types.get(fam, ('',))[0]
        if t == 'counter' and not value >= 0:
            problems.append(f"line {n}: counter {name} is {value}")
    # Histograms.
    for fam, (t, _) in types.items():
        if t != 'histogram':
            continue
        groups = {}
        for name, labels, value, n in samples:
            if family_of(name) != fam:
                continue
            rest = tuple(sorted((k, v) for k, v in labels.items() if k != 'le'))
            g = groups.setdefault(rest, {'buckets': [], 'sum': None, 'count': None})
            if name == fam + '_bucket':
                if 'le' not in labels:
                    problems.append(f"line {n}: bucket without le")
                    continue
                g['buckets'].append((float(labels['le']), value, n))
            elif name == fam + '_sum':
                g['sum'] = value
            elif name == fam + '_count':
                g['count'] = value
            else:
                problems.append(f"line {n}: {name} in histogram {fam}")
        for rest, g in groups.items():
            b = g['buckets']
            if not b or not math.isinf(b[-1][0]):
                problems.append(f"{fam}{dict(rest)}: no +Inf bucket last")
            for (le1, c1, _), (le2, c2, n2) in zip(b, b[1:]):
                if not le2 > le1:
                    problems.append(f"line {n2}: {fam} buckets not ascending")
                if c2 < c1:
                    problems.append(f"line {n2}: {fam} bucket counts not cumulative")
            if g['count'] is None or g['sum'] is None:
                problems.append(f"{fam}{dict(rest)}: _sum or _count missing")
            elif b and b[-1][1] != g['count']:
                problems.append(f"{fam}{dict(rest)}: +Inf bucket {b[-1][1]} != _count {g['count']}")
    return samples, types, problems


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd, path = sys.argv[1], sys.argv[2]
    samples, _types, problems = parse(path)
    if cmd == 'check':
        for p in problems:
            print(p)
        sys.exit(1 if problems else 0)
    if cmd == 'get':
        args = sys.argv[3:]
        count = args and args[0] == '--count'
        if count:
            args = args[1:]
        name, want = args[0], dict(a.split('=', 1) for a in args[1:])
        hits = [v for s, l, v, _ in samples if s == name and all(l.get(k) == x for k, x in want.items())]
        print(len(hits) if count else ('%g' % sum(hits)))
        return
    if cmd == 'series':
        for s, l, v, _ in samples:
            if s == sys.argv[3]:
                print(json.dumps({'labels': l, 'value': v}, sort_keys=True))
        return
    sys.exit(__doc__)


if __name__ == '__main__':
    main()
