"""percentile: the one percentile the tests and benchmarks report (failover,
sync loss, Patroni), so that a p90 or p99 means the same in every table."""
import math


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile. REQUIRES: values not empty."""
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]
