"""metrics_text: the Prometheus text format as pgvrrpd's metrics file must
follow it, parsed strictly (test_metrics_file.py's rules), for every test
that reads a metrics file.

    samples = read(path)                       # or LabError naming the rule broken
    value(samples, "pgvrrpd_router_state", router="pg", state="MASTER")
"""
import math
import re

from processes import LabError

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    """Samples by (name, labels), or LabError naming the rule broken."""
    helps, types, done, samples = {}, {}, set(), {}
    current = None
    if not text.endswith("\n"):
        raise LabError("the file does not end with a newline")
    for number, line in enumerate(text.splitlines(), 1):
        where = f"line {number}: {line!r}"
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            kind, name, rest = line[2:6], *(line[7:].split(" ", 1) + [""])[:2]
            if not NAME.fullmatch(name):
                raise LabError(f"{where}: bad metric name")
            seen = helps if kind == "HELP" else types
            if name in seen:
                raise LabError(f"{where}: second {kind} for {name}")
            if kind == "TYPE" and rest not in ("counter", "gauge", "untyped"):
                raise LabError(f"{where}: unknown type")
            if kind == "TYPE" and rest == "counter" and not name.endswith("_total"):
                raise LabError(f"{where}: a counter not named *_total")
            if name in done or (name in samples_names(samples)):
                raise LabError(f"{where}: {kind} after samples of {name}")
            seen[name] = rest
            if current != name:
                if current is not None:
                    done.add(current)
                current = name
            continue
        if line.startswith("#") or not line.strip():
            continue
        m = re.fullmatch(r"([^{\s]+)(?:\{(.*)\})? (\S+)", line)
        if not m:
            raise LabError(f"{where}: not a sample")
        name, labels_text, value = m.groups()
        if not NAME.fullmatch(name):
            raise LabError(f"{where}: bad metric name")
        if name not in helps or name not in types:
            raise LabError(f"{where}: no HELP and TYPE before it")
        if name in done:
            raise LabError(f"{where}: samples of {name} not in one group")
        if current != name:
            if current is not None:
                done.add(current)
            current = name
        labels = {}
        if labels_text:
            rest = labels_text
            while rest:
                lm = LABEL.match(rest)
                if not lm:
                    raise LabError(f"{where}: bad label syntax at {rest!r}")
                if lm.group(1) in labels:
                    raise LabError(f"{where}: label {lm.group(1)} twice")
                labels[lm.group(1)] = lm.group(2)
                rest = rest[lm.end():]
                if rest.startswith(","):
                    rest = rest[1:]
                elif rest:
                    raise LabError(f"{where}: bad label separator at {rest!r}")
        v = float(value)
        if math.isnan(v):
            raise LabError(f"{where}: NaN")
        key = (name, frozenset(labels.items()))
        if key in samples:
            raise LabError(f"{where}: the same series twice")
        samples[key] = v
    return samples


def samples_names(samples):
    return {name for name, _ in samples}


def value(samples, name, **labels) -> float:
    key = (name, frozenset(labels.items()))
    if key not in samples:
        raise LabError(f"no sample {name}{labels}")
    return samples[key]


def read(path: str) -> dict:
    with open(path) as f:
        return parse(f.read())
