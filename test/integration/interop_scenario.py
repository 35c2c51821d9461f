"""Interoperability with real keepalived: one pgvrrpd node and one keepalived
node on the same VRID and VIP, plus a client.

For each priority order (pgvrrpd higher, then keepalived higher):

  * the higher-priority node starts first and takes the VIP, then the other
    starts and stays backup for Master_Down_Interval + a bit without ever
    adding the VIP; the client reaches the VIP through the master's MAC;
  * SIGKILL of the master (keepalived: both processes) -> the other node holds
    the VIP within Master_Down_Interval (+ MARGIN), the client follows;
  * the killed node comes back (pgvrrpd: preempt off; keepalived: nopreempt)
    and stays backup; a SIGTERM of the new master (priority 0 advert) makes
    it take over within Skew_Time (+ MARGIN).

So every direction is measured: pgvrrpd -> keepalived and keepalived ->
pgvrrpd, for SIGKILL and for SIGTERM. Throughout, pgvrrpd must drop none of
keepalived's adverts (checksums, address counts, intervals, auth all
accepted), keepalived must not log complaints about pgvrrpd's, and tshark
must decode the capture of the whole run without problems.
Prints `RESULT <name> pg_to_ka_sigkill_ms=... ...`.
"""
from __future__ import annotations

import re
import signal
import time

from addrwatch import AddressWatcher
from capture import Capture, read_fields
from keepalived_lab import Keepalived
from netlab import Host, Lab
from pgvrrpd_node import (DROPPED, PgvrrpdNode, assert_single_holder,
                          master_down_interval, skew_time)
from processes import LabError, log, wait_until

# Scheduling and netlink latency allowed on top of the RFC timers.
MARGIN = 0.15
HIGH, LOW = 150, 100
KA_STATE = re.compile(r"\((\w+)\) Entering (\w+) STATE")
# keepalived's complaints about a received advert (vrrp.c, 2.2.x): bad
# checksum / TTL / auth / interval / address list, unknown version or type.
KA_COMPLAINT = re.compile(
    r"(?i)(invalid|mismatch|bad |checksum|ttl|wrong|discard|malformed|"
    r"does not match|unknown|not supported|error)")


class PgSide:
    tag = "pg"

    def __init__(self, host: Host, vip: str, vrid: int, interval: float, version: int,
                 auth: str | None):
        self.host, self.vip = host, vip
        self.keys = {"version": version, "advert_interval": interval,
                     "virtual_ip": [vip]}
        if auth:
            self.keys["auth_pass"] = auth
        self.vrid = vrid
        self.node: PgvrrpdNode | None = None
        self.logs: list[str] = []     # log files of every run, for the drop check

    def __repr__(self):
        return "pgvrrpd"

    def start(self, priority: int) -> None:
        # One node object, so every run gets its own log file (-1, -2, ...).
        # preempt defaults to false: a restarted higher-priority node stays backup.
        if not self.node:
            self.node = PgvrrpdNode(self.host, vrid=self.vrid, **self.keys)
        self.node.routers[self.node.name]["priority"] = priority
        self.node.start()
        self.logs.append(self.node.proc.log_path)

    def states(self) -> list[str]:
        return [t[1] for t in self.node.transitions()]

    def state(self) -> str:
        return self.node.state()

    def wait_state(self, state: str, timeout: float) -> None:
        self.node.wait_state(state, timeout)

    def sigkill(self) -> None:
        self.node.kill(signal.SIGKILL)

    def sigterm(self) -> None:
        self.node.kill(signal.SIGTERM)

    def wait_exit(self, timeout: float = 5) -> int:
        return self.node.proc.wait(timeout)

    def stop(self) -> None:
        if self.node and self.node.proc.alive():
            self.node.stop()

    def received(self) -> int:
        line = self.node.statistics()
        m = re.search(r"received=(\d+)", line)
        if not m:
            raise LabError(f"cannot parse pgvrrpd statistics line {line!r}")
        return int(m[1])

    def drops(self) -> list[str]:
        out = []
        for path in self.logs:
            with open(path, errors="replace") as f:
                out += [m[0] for m in DROPPED.finditer(f.read())]
        return out


class KaSide:
    tag = "ka"

    def __init__(self, host: Host, vip: str, vrid: int, interval: float, version: int,
                 auth: str | None):
        self.host, self.vip = host, vip
        self.params = dict(vips=[vip], virtual_router_id=vrid, advert_int=interval,
                           version=version)
        if auth:
            self.params["extra_instance"] = (
                f"authentication {{\n    auth_type PASS\n    auth_pass {auth}\n}}")
        self.k: Keepalived | None = None
        self.offset = 0               # start of the current run in the shared log

    def __repr__(self):
        return "keepalived"

    def log_text(self) -> str:
        if not self.k or not self.k.proc:
            return ""
        with open(self.k.proc.log_path, errors="replace") as f:
            return f.read()

    def start(self, priority: int, nopreempt: bool = False) -> None:
        if self.k and self.k.proc:
            self.offset = len(self.log_text())
        self.k = Keepalived(self.host, priority=priority, nopreempt=nopreempt, **self.params)
        self.k.start()

    def states(self) -> list[str]:
        return [m[2] for m in KA_STATE.finditer(self.log_text()[self.offset:])]

    def state(self) -> str:
        s = self.states()
        return s[-1] if s else "INIT"

    def wait_state(self, state: str, timeout: float) -> None:
        wait_until(lambda: self.state() == state, timeout, 0.01,
                   f"keepalived on {self.host.short} to enter {state} "
                   f"(states so far: {self.states()})")

    def sigkill(self) -> None:
        self.k.kill(signal.SIGKILL)       # SIGSTOP both, then SIGKILL both

    def sigterm(self) -> None:
        self.k.proc.kill(signal.SIGTERM)  # the parent, as `systemctl stop` would

    def wait_exit(self, timeout: float = 5) -> int:
        rc = self.k.proc.wait(timeout)
        wait_until(lambda: not self.k.alive(), timeout, 0.02,
                   f"keepalived VRRP child on {self.host.short} to exit")
        return rc

    def stop(self) -> None:
        if self.k and self.k.alive():
            self.k.stop()

    def complaints(self) -> list[str]:
        return [ln for ln in self.log_text().splitlines() if KA_COMPLAINT.search(ln)]


def _remove_vip(host: Host, vip: str) -> None:
    if host.has_address(vip, usable=False):
        host.del_address(vip)


def _one_order(high, low, client: Host, vip: str, interval: float, result: dict) -> None:
    """high starts first and is master; SIGKILL it; restart it; SIGTERM low."""
    log(f"--- {high} (priority {HIGH}) vs {low} (priority {LOW})")
    mdi_high = master_down_interval(HIGH, interval)
    mdi_low = master_down_interval(LOW, interval)

    # -- election: the higher one first, then the lower one stays backup
    w_high, w_low = AddressWatcher(high.host, vip), AddressWatcher(low.host, vip)
    high.start(HIGH)
    w_high.wait_present(mdi_high + 3)
    high.wait_state("MASTER", 1)
    low.start(LOW)
    low.wait_state("BACKUP", 3)
    time.sleep(mdi_low + 2 * interval)
    if low.states() != ["BACKUP"] or low.host.has_address(vip, usable=False) or w_low.events:
        raise LabError(f"{low} (priority {LOW}) was expected to stay BACKUP without the VIP "
                       f"while {high} is master; its states: {low.states()}, VIP events "
                       f"{w_low.events}")
    if high.states() != ["BACKUP", "MASTER"] and high.states() != ["MASTER"]:
        raise LabError(f"{high} was expected to be master once; states {high.states()}")
    assert_single_holder([high.host, low.host], vip, high.host)
    if isinstance(low, PgSide) and low.received() == 0:
        raise LabError("pgvrrpd as backup counted no received adverts from keepalived")
    if not client.ping(vip, count=1, timeout_s=2):
        raise LabError(f"client cannot ping the VIP {vip} held by {high}")
    if client.neigh_mac(vip) != high.host.mac:
        raise LabError(f"client's neighbour entry for {vip} is {client.neigh_mac(vip)}, "
                       f"expected {high}'s MAC {high.host.mac}")

    # -- SIGKILL of the master: the other takes over after Master_Down_Interval
    t_kill = time.monotonic()
    high.sigkill()
    takeover = w_low.wait_present(mdi_low + 2) - t_kill
    key = f"{high.tag}_to_{low.tag}_sigkill"
    result[key] = takeover
    log(f"SIGKILL {high} -> {low} holds the VIP after {takeover * 1000:.0f} ms "
        f"(Master_Down_Interval {mdi_low * 1000:.0f} ms)")
    # The kill lands anywhere within an advert interval after the last advert.
    if not (mdi_low - interval - MARGIN <= takeover <= mdi_low + MARGIN):
        raise LabError(f"SIGKILL takeover {high} -> {low} took {takeover * 1000:.0f} ms, "
                       f"expected {(mdi_low - interval) * 1000:.0f}..{mdi_low * 1000:.0f} ms "
                       f"+ {MARGIN * 1000:.0f} ms margin")
    low.wait_state("MASTER", 1)
    wait_until(lambda: client.neigh_mac(vip) == low.host.mac, 2, 0.02,
               f"client's neighbour entry for {vip} to move to {low}'s MAC {low.host.mac}")
    if not client.ping(vip, count=1, timeout_s=2):
        raise LabError(f"client cannot ping the VIP {vip} after takeover by {low}")
    w_high.stop()
    w_low.stop()

    # -- the killed node comes back (no preemption) and stays backup. A killed
    # keepalived leaves its VIP behind for good, a killed pgvrrpd until its
    # lease runs out: remove it, as a restart on a rebooted host would find.
    _remove_vip(high.host, vip)
    w_high, w_low = AddressWatcher(high.host, vip), AddressWatcher(low.host, vip)
    if isinstance(high, KaSide):
        high.start(HIGH, nopreempt=True)
    else:
        high.start(HIGH)
    high.wait_state("BACKUP", 3)
    time.sleep(mdi_high + 2 * interval)
    if high.states() != ["BACKUP"] or w_high.events:
        raise LabError(f"restarted {high} was expected to stay BACKUP (no preemption) while "
                       f"{low} is master; states {high.states()}, VIP events {w_high.events}")
    assert_single_holder([high.host, low.host], vip, low.host)

    # -- SIGTERM of the master: priority 0 advert, takeover after Skew_Time
    t_term = time.monotonic()
    low.sigterm()
    takeover = w_high.wait_present(mdi_high + 2) - t_term
    key = f"{low.tag}_to_{high.tag}_sigterm"
    result[key] = takeover
    skew = skew_time(HIGH, interval)
    log(f"SIGTERM {low} -> {high} holds the VIP after {takeover * 1000:.0f} ms "
        f"(Skew_Time {skew * 1000:.0f} ms)")
    if takeover > skew + MARGIN:
        raise LabError(f"SIGTERM takeover {low} -> {high} took {takeover * 1000:.0f} ms, "
                       f"expected about Skew_Time {skew * 1000:.0f} ms "
                       f"(+{MARGIN * 1000:.0f} ms)")
    w_low.wait_absent(2)
    rc = low.wait_exit(5)
    if rc != 0:
        raise LabError(f"{low} exited with {rc} after SIGTERM, expected 0")
    high.wait_state("MASTER", 1)
    if isinstance(high, PgSide):
        reason = high.node.transitions()[-1][2]
        if "resigned (priority 0 advert)" not in reason:
            raise LabError(f"pgvrrpd took over from keepalived for another reason than a "
                           f"priority 0 advert: {reason!r}")
    assert_single_holder([high.host, low.host], vip, high.host)
    wait_until(lambda: client.neigh_mac(vip) == high.host.mac, 2, 0.02,
               f"client's neighbour entry for {vip} to move to {high}'s MAC {high.host.mac}")
    if not client.ping(vip, count=1, timeout_s=2):
        raise LabError(f"client cannot ping the VIP {vip} after SIGTERM takeover by {high}")
    w_high.stop()
    w_low.stop()

    # -- clean slate for the next order
    high.stop()
    for h in (high.host, low.host):
        _remove_vip(h, vip)
    client.flush_neigh()


def run(name: str, family: int = 4, interval: float = 0.1, version: int = 3,
        auth: str | None = None, vrid: int = 51) -> dict:
    """Both priority orders; returns the measured takeovers (seconds)."""
    v4 = family == 4
    vip = "198.51.100.100/24" if v4 else "2001:db8:100::100/64"
    result: dict[str, float] = {}
    with Lab(name) as lab:
        pg_host = lab.add_host("pg", ipv4="198.51.100.11/24", ipv6="2001:db8:100::11/64")
        ka_host = lab.add_host("ka", ipv4="198.51.100.12/24", ipv6="2001:db8:100::12/64")
        client = lab.add_host("cl", ipv4="198.51.100.20/24", ipv6="2001:db8:100::20/64")
        pg = PgSide(pg_host, vip, vrid, interval, version, auth)
        ka = KaSide(ka_host, vip, vrid, interval, version, auth)
        cap = Capture(lab).start()
        _one_order(pg, ka, client, vip, interval, result)
        _one_order(ka, pg, client, vip, interval, result)
        pg.stop()
        ka.stop()
        # Both implementations' adverts on the wire decode cleanly.
        count, problems = cap.decode_check()
        src = "ip.src" if v4 else "ipv6.src"
        senders = {f[src] for f in read_fields(cap.pcap, [src])}
        want = {pg_host.ipv4.split("/")[0] if v4 else pg_host.link_local,
                ka_host.ipv4.split("/")[0] if v4 else ka_host.link_local}
        if problems or senders != want:
            raise LabError(f"expected a clean capture with adverts from both nodes {want}; "
                           f"{count} frames from {senders}, problems: {problems[:10]}")
        log(f"capture: {count} VRRP frames from {sorted(senders)}, no decode problems")
        drops = pg.drops()
        if drops:
            raise LabError(f"pgvrrpd dropped keepalived's adverts: {drops}")
        complaints = ka.complaints()
        if complaints:
            raise LabError("keepalived complained about received adverts:\n  "
                           + "\n  ".join(complaints))
    print("RESULT " + name + " " + " ".join(
        f"{k}_ms={v * 1000:.0f}" for k, v in result.items()), flush=True)
    return result
