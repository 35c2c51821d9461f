#!/usr/bin/env python3
"""Footprint of pgvrrpd against keepalived (VRRP only), issue 4: memory, idle
CPU, and how CPU, memory and advert timing grow with the number of routers.
Prints markdown tables and the target lines.

    sudo python3 bench/footprint.py            # full figures, about 13 minutes
    sudo python3 bench/footprint.py --quick    # smoke run, ~1 minute

Cases (all VRRPv3, multicast, every daemon in its own lab of namespaces):
  memory     a MASTER and a BACKUP peer, 1 s adverts, after a settle time:
             each node's daemon processes (keepalived: parent + VRRP child,
             which share pages after the fork): the VmRSS sum (counts those
             twice), RSS together (distinct pages, counts them once) and the
             PSS sum (splits every shared page among all its users).
  idle CPU   the same pair at 0.01 s adverts: utime+stime of the daemon's
             processes over --idle-seconds, as % of one core; three rounds
             alternating the daemons (one in --quick); each round also runs
             pgvrrpd at vip_lease 1, the smallest lease the parser accepts.
  growth     one daemon alone with N routers (VRIDs 1..N, all MASTER) on one
             interface at 1 s and 0.1 s adverts: CPU %, memory, and adverts
             captured on the lab bridge; an advert is late if it comes more
             than 1.1 x the interval after the previous one of its VRID.

The machine may be shared: CPU figures include any contention from other
work, so the load average is printed with them. Runs as root; run() is the
entry point for a top-level benchmark script."""
from __future__ import annotations

import argparse
import array
import os
import re
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "test", "integration"))

import pgvrrpd_node  # noqa: E402
from capture import Capture, read_fields  # noqa: E402
from keepalived_lab import Keepalived, keepalived_version  # noqa: E402
from netlab import Lab  # noqa: E402
from pgvrrpd_node import PgvrrpdNode  # noqa: E402
from processes import LabError, log, wait_until  # noqa: E402

DAEMONS = ("pgvrrpd", "keepalived")
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
PFN_MASK = (1 << 55) - 1
LATE = 1.1          # an advert later than LATE x interval after the previous one is late
PAIR_VID = 51
PAIR_VIP = "198.51.100.100/32"
# Growth: router v has VIP 198.51.100.v/32 while v <= IPV4_ROUTERS; the
# /24 has no room for 255 of them next to the host's own address, so the
# last few are IPv6 routers (VIP 2001:db8:100::1:v). VRIDs stay distinct
# across the two families, so the VRID alone names a router in the capture.
IPV4_ROUTERS = 250
GROWTH_HOST = ("198.51.100.254/24", "2001:db8:100::254/64")

FULL = dict(idle_seconds=60.0, idle_rounds=3, routers=[1, 10, 100, 255], intervals=[1.0, 0.1],
            windows={1.0: 20.0, 0.1: 10.0}, settle=5.0)
QUICK = dict(idle_seconds=5.0, idle_rounds=1, routers=[1, 10, 255], intervals=[0.1],
             windows={1.0: 5.0, 0.1: 3.0}, settle=2.0)


# --------------------------------------------------------------------------
# what a process costs, from /proc

def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of all threads of these processes (the kernel scales
    them to the scheduler's exact runtime, so the sum is not tick-sampled)."""
    return sum(sum(_stat(pid)[11:13]) for pid in pids) / CLK_TCK


def major_faults(pids: list[int]) -> int:
    """Page faults that had to read from disk: a stall of the process (e.g.
    code pages dropped from the page cache by memory reclaim)."""
    return sum(_stat(pid)[9] for pid in pids)


def _stat(pid: int) -> list[int]:
    """/proc/PID/stat from field 3 (state, as 0) of proc(5) on: [9] = majflt,
    [11] = utime, [12] = stime."""
    with open(f"/proc/{pid}/stat") as f:
        return [int(x) if x.lstrip("-").isdigit() else 0
                for x in f.read().rsplit(")", 1)[1].split()]


def memory_kib(pids: list[int]) -> tuple[int, int]:
    """(sum of VmRSS, sum of Pss) in KiB."""
    rss = pss = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as f:
            rss += next(int(ln.split()[1]) for ln in f if ln.startswith("VmRSS:"))
        with open(f"/proc/{pid}/smaps_rollup") as f:
            pss += next(int(ln.split()[1]) for ln in f if ln.startswith("Pss:"))
    return rss, pss


def unique_kib(pids: list[int]) -> int:
    """KiB of the distinct physical pages these processes map: their RSS
    together, each page they share among themselves counted once. (PSS also
    divides the pages shared with every other process, here including the
    peer daemon that runs on this same machine, which a real pair does not.)"""
    frames = set()
    for pid in pids:
        with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/pagemap", "rb") as pagemap:
            for line in maps:
                if line.rstrip().endswith("[vsyscall]"):
                    continue        # not in pagemap
                lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
                pagemap.seek(lo // PAGE * 8)
                entries = array.array("Q", pagemap.read((hi - lo) // PAGE * 8))
                # bit 63: present; bits 0-54: page frame number (root only)
                frames.update(e & PFN_MASK for e in entries if e >> 63)
    return len(frames) * PAGE // 1024


class StallProbe:
    """A thread of ours that sleeps to deadlines every PERIOD and records how
    late it wakes. A stall it sees as well (another tenant, the hypervisor)
    is the machine's, not the daemon's: the growth table shows the worst."""
    PERIOD = 0.01

    def __init__(self):
        self.worst = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="stall-probe")

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False

    def _loop(self):
        deadline = time.monotonic()
        while not self._stop.is_set():
            deadline += self.PERIOD
            time.sleep(max(0.0, deadline - time.monotonic()))
            late = time.monotonic() - deadline
            self.worst = max(self.worst, late)
            if late > self.PERIOD:
                deadline = time.monotonic()     # start afresh after a long stall


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# --------------------------------------------------------------------------
# one daemon with some routers on a host

class Daemon:
    """pgvrrpd or keepalived on `host` with routers [(vrid, vip)], all at the
    same priority and advert interval."""

    def __init__(self, kind: str, host, routers: list[tuple[int, str]], interval: float,
                 priority: int, lease: int | None = None):
        """lease: pgvrrpd's vip_lease (None: its default, 3)."""
        self.kind, self.host, self.vips = kind, host, [vip for _, vip in routers]
        (vrid, vip), rest = routers[0], routers[1:]
        if kind == "pgvrrpd":
            keys = dict(priority=priority, advert_interval=interval, version=3,
                        **({"vip_lease": lease} if lease is not None else {}))
            self.node = PgvrrpdNode(host, f"r{vrid}", vrid, virtual_ip=[vip], **keys)
            for v, a in rest:
                self.node.add_router(f"r{v}", v, virtual_ip=[a], **keys)
        else:
            self.node = Keepalived(host, vips=[vip], virtual_router_id=vrid, priority=priority,
                                   advert_int=interval, version=3,
                                   more_instances=[dict(vips=[a], virtual_router_id=v)
                                                   for v, a in rest])
        self.started_pids: list[int] = []

    def start(self) -> "Daemon":
        self.node.start()
        return self

    def pids(self) -> list[int]:
        if self.kind == "pgvrrpd":
            return [self.node.proc.pid] if self.node.proc.alive() else []
        return self.node.pids()

    def expect_pids(self) -> list[int]:
        """The daemon's processes, which must not change during a measurement
        (keepalived respawning its child would reset the counters)."""
        now = self.pids()
        want = 1 if self.kind == "pgvrrpd" else 2
        if len(now) != want or (self.started_pids and now != self.started_pids):
            raise LabError(f"{self.kind} on {self.host.short}: processes {now}, expected "
                           f"{want} (earlier {self.started_pids})")
        self.started_pids = now
        return now

    def wait_master(self, timeout: float) -> None:
        """All VIPs on the host: the daemon-neutral sign that every router is MASTER."""
        wait_until(lambda: vips_present(self.host, self.vips), timeout, 0.1,
                   f"{self.kind} on {self.host.short} to hold all {len(self.vips)} VIPs")


def vips_present(host, vips: list[str]) -> bool:
    have = {a["local"] for a in host.addresses()}
    return all(v.split("/")[0] in have for v in vips)


# --------------------------------------------------------------------------
# the cases

def pair(lab: Lab, kind: str, interval: float, settle: float,
         lease: int | None = None) -> tuple[Daemon, Daemon]:
    """n1 MASTER (priority 200) and n2 BACKUP (100) of one router, settled."""
    n1 = lab.add_host("n1", ipv4="198.51.100.11/24")
    n2 = lab.add_host("n2", ipv4="198.51.100.12/24")
    master = Daemon(kind, n1, [(PAIR_VID, PAIR_VIP)], interval, 200, lease).start()
    master.wait_master(4 * interval + 10)
    backup = Daemon(kind, n2, [(PAIR_VID, PAIR_VIP)], interval, 100, lease).start()
    time.sleep(settle + 4 * interval)   # past the backup's Master_Down_Interval
    if vips_present(n2, backup.vips) or not vips_present(n1, master.vips):
        raise LabError(f"{kind}: expected the VIP on n1 only; n1 {n1.addresses()}, "
                       f"n2 {n2.addresses()}")
    return master, backup


def measure_floors(settle: float) -> list[dict]:
    """VmRSS of bench/linked_floor.c built with libc alone and with libpq:
    what loading those libraries costs before any code of ours runs."""
    rows = []
    with Lab("footprint_floor") as lab:
        host = lab.add_host("n1", ipv4="198.51.100.11/24")
        for name, what in (("linked_floor_libc", "libc only"),
                           ("linked_floor_libpq", "libpq (and what it loads)")):
            binary = os.path.join(os.path.dirname(pgvrrpd_node.PGVRRPD_BIN), "bench", name)
            proc = host.spawn([binary], log_name=name)
            time.sleep(min(settle, 1.0))
            if not proc.alive():
                raise LabError(f"{binary} exited: {proc.log_text()}")
            rss, pss = memory_kib([proc.pid])
            rows.append(dict(name=name, what=what, rss=rss, pss=pss))
            proc.stop()
    return rows


def measure_memory(kind: str, settle: float) -> list[dict]:
    with Lab("footprint_mem") as lab:
        master, backup = pair(lab, kind, 1.0, settle)
        rows = []
        for role, d in (("MASTER", master), ("BACKUP", backup)):
            pids = d.expect_pids()
            rss, pss = memory_kib(pids)
            rows.append(dict(daemon=kind, role=role, procs=len(pids), rss=rss, pss=pss,
                             together=unique_kib(pids)))
        return rows


def measure_idle(kind: str, seconds: float, settle: float, rnd: int = 1,
                 lease: int | None = None) -> list[dict]:
    """lease: pgvrrpd's vip_lease; 1, the smallest the parser accepts, is
    also the most work: a netlink refresh every third of a second."""
    with Lab("footprint_idle") as lab:
        master, backup = pair(lab, kind, 0.01, settle, lease)
        daemons = (("MASTER", master), ("BACKUP", backup))
        before = {role: cpu_seconds(d.expect_pids()) for role, d in daemons}
        t0 = time.monotonic()
        time.sleep(seconds)
        wall = time.monotonic() - t0
        rows = []
        for role, d in daemons:
            used = cpu_seconds(d.expect_pids()) - before[role]
            label = kind if lease is None else f"{kind} vip_lease {lease}"
            rows.append(dict(daemon=label, role=role, cpu=100 * used / wall, used=used,
                             wall=wall, round=rnd))
        if not vips_present(master.host, master.vips) or vips_present(backup.host, backup.vips):
            raise LabError(f"{kind}: the VIP moved during the idle window")
        return rows


def growth_routers(n: int) -> list[tuple[int, str]]:
    return [(v, f"198.51.100.{v}/32" if v <= IPV4_ROUTERS else f"2001:db8:100::1:{v}/128")
            for v in range(1, n + 1)]


def late_adverts(pcap: str, vrids: list[int], interval: float, start: float,
                 end: float) -> tuple[int, int, float]:
    """(late, adverts, worst gap in s) for the adverts captured in
    [start, end] (wall clock), per VRID against the previous advert
    (captured before start if need be). A router silent from its last
    advert to `end` for longer than LATE x interval counts one more late."""
    times: dict[int, list[float]] = {}
    for f in read_fields(pcap, ["frame.time_epoch", "vrrp.virt_rtr_id"], "vrrp.type == 1"):
        times.setdefault(int(f["vrrp.virt_rtr_id"]), []).append(float(f["frame.time_epoch"]))
    if set(times) != set(vrids):
        raise LabError(f"adverts were expected for VRIDs {vrids}; missing "
                       f"{sorted(set(vrids) - set(times))}, unexpected "
                       f"{sorted(set(times) - set(vrids))}")
    late = adverts = 0
    worst = 0.0
    for ts in times.values():
        gaps = [b - a for a, b in zip(ts, ts[1:]) if start <= b <= end]
        # silence from the router's last advert in the window to its end
        gaps.append(end - max([t for t in ts if t <= end], default=start))
        adverts += len(gaps) - 1
        late += sum(g > LATE * interval for g in gaps)
        worst = max(worst, *gaps)
    return late, adverts, worst


def measure_growth(kind: str, n: int, interval: float, window: float, tries: int = 3) -> dict:
    """A lost captured packet can only make a gap look late, never hide
    one: so a result with no late adverts stands despite drops, and one
    with late adverts and drops is measured again (up to `tries` times)."""
    for _ in range(tries):
        r = growth_once(kind, n, interval, window)
        if not (r["late"] and r["dropped"]):
            break
        log(f"{kind} {n} routers at {interval:g} s: {r['late']} late adverts but the capture "
            f"dropped {r['dropped']} packets; measuring again")
    return r


def growth_once(kind: str, n: int, interval: float, window: float) -> dict:
    with Lab("footprint_growth") as lab:
        host = lab.add_host("n1", ipv4=GROWTH_HOST[0], ipv6=GROWTH_HOST[1])
        routers = growth_routers(n)
        d = Daemon(kind, host, routers, interval, 100).start()
        d.wait_master(4 * interval + 20)
        time.sleep(0.5 + 3 * interval)     # past the initial gratuitous ARPs
        pids = d.expect_pids()
        cap = Capture(lab, name=f"{kind}-{n}").start()
        # tshark's start-up is heavy; keep it out of the window, and capture
        # at least one advert of every router before it.
        time.sleep(max(1.0, 2 * interval))
        with StallProbe() as probe:
            faults0, cpu0 = major_faults(pids), cpu_seconds(pids)
            t0, wall0 = time.monotonic(), time.time()
            time.sleep(window)
            cpu1, t1, wall1 = cpu_seconds(d.expect_pids()), time.monotonic(), time.time()
            faults = major_faults(pids) - faults0
        rss, together = memory_kib(pids)[0], unique_kib(pids)
        cap.stop()
        dropped = re.search(r"(\d+) packets? dropped", cap.proc.log_text())
        if not vips_present(host, d.vips):
            raise LabError(f"{kind}: some of the {n} routers left MASTER during the window")
        late, adverts, worst = late_adverts(cap.pcap, [v for v, _ in routers], interval,
                                            wall0, wall1)
        return dict(daemon=kind, n=n, interval=interval, cpu=100 * (cpu1 - cpu0) / (t1 - t0),
                    rss=rss, together=together, late=late, adverts=adverts, worst=worst,
                    dropped=int(dropped[1]) if dropped else 0, stall=probe.worst,
                    faults=faults)


# --------------------------------------------------------------------------
# report

def run(quick: bool = False, idle_seconds: float | None = None,
        routers: list[int] | None = None, pgvrrpd: str | None = None,
        intervals: list[float] | None = None) -> str:
    """Runs every case and returns the markdown report."""
    cfg = dict(QUICK if quick else FULL)
    if idle_seconds is not None:
        cfg["idle_seconds"] = idle_seconds
    if routers:
        cfg["routers"] = routers
    if intervals:
        cfg["intervals"] = intervals
    if pgvrrpd:
        pgvrrpd_node.PGVRRPD_BIN = os.path.abspath(pgvrrpd)
    if not os.access(pgvrrpd_node.PGVRRPD_BIN, os.X_OK):
        raise LabError(f"no pgvrrpd binary at {pgvrrpd_node.PGVRRPD_BIN} (build it, or --pgvrrpd)")
    load0 = loadavg()
    mem = [r for k in DAEMONS for r in measure_memory(k, cfg["settle"])]
    floors = measure_floors(cfg["settle"])
    # Rounds alternate the daemons, so that the machine's drift (the same lab
    # measured 0.4% and 1.1% ten minutes apart) hits both alike.
    # Each round also runs pgvrrpd at the smallest vip_lease (issue 9, 1).
    idle = [r for n in range(1, cfg["idle_rounds"] + 1)
            for k, lease in [(k, None) for k in DAEMONS] + [("pgvrrpd", 1)]
            for r in measure_idle(k, cfg["idle_seconds"], cfg["settle"], n, lease)]
    growth = [measure_growth(k, n, i, cfg["windows"][i])
              for i in cfg["intervals"] for n in cfg["routers"] for k in DAEMONS]
    load1 = loadavg()

    out = [f"## Footprint: pgvrrpd vs {keepalived_version()}",
           "", f"{'quick' if quick else 'full'} run; load average before {load0}, "
           f"after {load1} ({os.cpu_count()} CPUs, shared machine)", "",
           "### Memory, one router, 1 s adverts, MASTER + BACKUP peer, steady state", "",
           "RSS together = distinct pages of the daemon's processes (shared ones "
           "once); PSS also splits pages shared with other processes, including the "
           "peer daemon on this same machine.", "",
           "| daemon | node | processes | VmRSS sum KiB | RSS together KiB | PSS sum KiB |",
           "|---|---|--:|--:|--:|--:|"]
    out += [f"| {r['daemon']} | {r['role']} | {r['procs']} | {r['rss']} | {r['together']} | "
            f"{r['pss']} |" for r in mem]
    out += ["", "Floors: a process that only loads these libraries and sleeps "
            "(bench/linked_floor.c); pgvrrpd links libpq for its postgres check.", "",
            "| process | links | VmRSS KiB | PSS KiB |", "|---|---|--:|--:|"]
    out += [f"| {r['name']} | {r['what']} | {r['rss']} | {r['pss']} |" for r in floors]
    out += ["", f"### Idle CPU, one router, 0.01 s adverts, {cfg['idle_seconds']:g} s window"
            f", {cfg['idle_rounds']} round(s) alternating the daemons", "",
            "| round | daemon | node | CPU % of one core | CPU s | wall s |",
            "|--:|---|---|--:|--:|--:|"]
    out += [f"| {r['round']} | {r['daemon']} | {r['role']} | {r['cpu']:.2f} | {r['used']:.2f} | "
            f"{r['wall']:.1f} |" for r in idle]
    windows = ", ".join(f"{cfg['windows'][i]:g} s at {i:g} s" for i in cfg["intervals"])
    out += ["", f"### Growth: N routers on one interface, all MASTER (window {windows})", "",
            f"Late = more than {LATE:g} x the interval after the previous advert of the "
            "same VRID (or silent that long at the end of the window). Both daemons with "
            "their defaults; pgvrrpd's include vip_lease 3, so each VIP is refreshed by "
            "netlink every second. Probe stall = the worst lateness of a thread of this "
            f"script waking every {StallProbe.PERIOD * 1000:g} ms during the window: delays "
            "the machine imposed on everyone. Major faults = the daemon's page faults "
            "that read from disk during the window (each a stall).", "",
            "| routers | interval s | daemon | CPU % of one core | VmRSS sum KiB "
            "| RSS together KiB | late / adverts | worst gap ms | probe stall ms "
            "| major faults |", "|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|"]
    out += [f"| {r['n']} | {r['interval']:g} | {r['daemon']} | {r['cpu']:.2f} | {r['rss']} | "
            f"{r['together']} | {r['late']} / {r['adverts']}"
            f"{' (capture dropped %d)' % r['dropped'] if r['late'] and r['dropped'] else ''} | "
            f"{r['worst'] * 1000:.0f} | {r['stall'] * 1000:.1f} | {r['faults']} |"
            for r in growth]
    out += ["", "### Targets", ""] + targets(mem, idle, growth, floors)
    return "\n".join(out) + "\n"


def targets(mem, idle, growth, floors) -> list[str]:
    def pick(rows, **kw):
        return next((r for r in rows if all(r[k] == v for k, v in kw.items())), None)

    def verdict(ok):
        return "met" if ok else "MISSED"
    lines = []
    p, k = pick(mem, daemon="pgvrrpd", role="MASTER"), pick(mem, daemon="keepalived",
                                                            role="MASTER")
    lines.append(f"- RSS <= half of keepalived's processes together (judged on the VmRSS "
                 f"sums, the issue's wording; MASTER): {verdict(p['rss'] <= k['rss'] / 2)}: "
                 f"{p['rss']} KiB vs {k['rss']} KiB ({p['rss'] / k['rss']:.0%}); "
                 f"RSS together {p['together']} vs {k['together']} KiB "
                 f"({p['together'] / k['together']:.0%}); "
                 f"PSS {p['pss']} vs {k['pss']} KiB ({p['pss'] / k['pss']:.0%})")
    floor = pick(floors, name="linked_floor_libpq")
    lines.append(f"  - a process that only links libpq takes {floor['rss']} KiB, "
                 f"{floor['rss'] / k['rss']:.0%} of keepalived's; pgvrrpd's own code and "
                 f"its other libraries (libstdc++, libnl, fmt, inih) add "
                 f"{p['rss'] - floor['rss']} KiB to that")
    def idle_cpu(daemon):
        return sorted(r["cpu"] for r in idle if r["daemon"] == daemon and r["role"] == "MASTER")
    mine, theirs = idle_cpu("pgvrrpd"), idle_cpu("keepalived")
    worst = max(mine)
    lines.append(f"- idle CPU at 0.01 s adverts < 1% of a core (MASTER, every round): "
                 f"{verdict(worst < 1)}: median {statistics.median(mine):.2f}%, worst "
                 f"{worst:.2f}% (keepalived: median {statistics.median(theirs):.2f}%, worst "
                 f"{max(theirs):.2f}%)")
    short = idle_cpu("pgvrrpd vip_lease 1")
    if short:
        lines.append(f"- idle CPU at the smallest values the parser accepts (vip_lease 1, "
                     f"0.01 s adverts) < 1% of a core (MASTER, every round): "
                     f"{verdict(max(short) < 1)}: median {statistics.median(short):.2f}%, "
                     f"worst {max(short):.2f}%")
    r = pick(growth, daemon="pgvrrpd", n=255, interval=0.1)
    if r:
        lines.append(f"- 255 routers at 0.1 s, no late adverts: {verdict(r['late'] == 0)}: "
                     f"{r['late']} late of {r['adverts']}, worst gap {r['worst'] * 1000:.0f} ms")
    else:
        lines.append("- 255 routers at 0.1 s, no late adverts: not measured in this run")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="short windows; routers 1, 10, 255 at 0.1 s only (CI smoke run)")
    parser.add_argument("--idle-seconds", type=float,
                        help="idle CPU window (default 60, quick 5)")
    parser.add_argument("--routers", type=lambda s: [int(x) for x in s.split(",")],
                        help="router counts for the growth table, e.g. 1,10,100,255")
    parser.add_argument("--intervals", type=lambda s: [float(x) for x in s.split(",")],
                        help="advert intervals for the growth table: 1 and/or 0.1")
    parser.add_argument("--pgvrrpd", default=pgvrrpd_node.PGVRRPD_BIN)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("footprint.py needs root (network namespaces)")
    for n in args.routers or []:
        if not 1 <= n <= 255:
            parser.error(f"router counts must be 1..255, got {n}")
    for i in args.intervals or []:
        if i not in FULL["windows"]:
            parser.error(f"intervals must be among {sorted(FULL['windows'])}, got {i:g}")
    report = run(args.quick, args.idle_seconds, args.routers, args.pgvrrpd, args.intervals)
    log("done")
    print(report, end="")


if __name__ == "__main__":
    main()
