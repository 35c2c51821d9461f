"""chaos: the faults of the chaos soak (test_chaos_soak.py) on a PgPair, and
what "the pair has converged" means. Each fault is injected on one node,
chosen at random, and returns its heal; the soak holds the fault long
enough for a takeover (1-4 s), heals it, and waits for the pair to
converge.

Kinds (FAULTS):
  daemon_kill      SIGKILL pgvrrpd; heal: start it again (systemd Restart=)
  daemon_stop      SIGSTOP pgvrrpd; heal: SIGCONT
  pg_kill          PostgreSQL stopped -m immediate; heal: none (pgvrrpd
                   rejoins it, auto_rejoin)
  pg_stop          SIGSTOP every PostgreSQL process; heal: SIGCONT
  link_down        the node's link down; heal: up
  partition        the node cut off at the bridge, both ways; heal: rule gone
  partition_out    only the node's outgoing frames dropped; heal: rule gone
  forged_adverts   a third host sends adverts for the VRID (priority 255,
                   254, 0) from its own address for 1 s; heal: none
"""
from __future__ import annotations

import os
import random
import signal
import time
from typing import Callable

from pg_pair import VIP, PgPair, Side
from processes import LabError
from vrrp_forge import run_in

FAULTS = ("daemon_kill", "daemon_stop", "pg_kill", "pg_stop", "link_down", "partition",
          "partition_out", "forged_adverts")

FORGER = r'''
src = sys.argv[1]
s = vrrp_socket()
for prio in (255, 254, 0) * 3:
    for _ in range(3):
        s.sendto(advert(src, prio=prio), (GROUP, 0))
        time.sleep(0.04)
'''


def signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


class Chaos:
    def __init__(self, pair: PgPair, stranger, rng: random.Random):
        self.pair, self.stranger, self.rng = pair, stranger, rng
        self.nodes = pair.sides
        self.sw = pair.lab.switch

    def inject(self, kind: str, node: Side) -> Callable[[], None]:
        """Injects `kind` on `node`; returns the heal."""
        if kind == "daemon_kill":
            node.daemon.kill(signal.SIGKILL)
            return node.daemon.start
        if kind == "daemon_stop":
            pid = node.daemon.proc.pid
            os.kill(pid, signal.SIGSTOP)
            return lambda: os.kill(pid, signal.SIGCONT)
        if kind == "pg_kill":
            if node.pg.running():
                node.pg.stop("immediate", timeout=10)
            return lambda: None
        if kind == "pg_stop":
            pids = node.pg.processes()
            signal_all(pids, signal.SIGSTOP)
            return lambda: signal_all(pids, signal.SIGCONT)
        if kind == "link_down":
            node.host.link_down()
            return node.host.link_up
        if kind in ("partition", "partition_out"):
            port = node.host.swport
            self.sw.run(["nft", "add table bridge chaos"])
            self.sw.run(["nft", "add chain bridge chaos cut "
                         "{ type filter hook forward priority 0 ; }"])
            self.sw.run(["nft", f"add rule bridge chaos cut iifname {port} drop"])
            if kind == "partition":
                self.sw.run(["nft", f"add rule bridge chaos cut oifname {port} drop"])
            return lambda: self.sw.run(["nft", "delete table bridge chaos"])
        if kind == "forged_adverts":
            run_in(self.stranger, FORGER, self.stranger.ipv4.split("/")[0])
            return lambda: None
        raise ValueError(kind)

    # -- convergence
    def converged(self) -> str | None:
        """None when exactly one node holds the VIP, its server is the
        writable primary and its daemon MASTER, and the other's server is a
        standby streaming from it, caught up, with its daemon BACKUP; else
        what is not so."""
        holders = [n for n in self.nodes if n.host.has_address(VIP)]
        if len(holders) != 1:
            return f"VIP held by {holders}"
        master = holders[0]
        other = self.nodes[1 - self.nodes.index(master)]
        for n, state in ((master, "MASTER"), (other, "BACKUP")):
            if not n.daemon.proc.alive():
                return f"{n}'s pgvrrpd is not running"
            if n.daemon.state() != state:
                return f"{n}'s pgvrrpd is {n.daemon.state()}, not {state}"
        try:
            if master.pg.psql("SELECT pg_is_in_recovery()") != "f":
                return f"the VIP holder {master}'s server is not a writable primary"
            receiver = other.pg.wal_receiver()
        except LabError as e:
            return str(e).splitlines()[0][:160]
        if receiver.get("status") != "streaming" or receiver.get("sender_host") != master.pg.addr:
            return f"{other}'s server does not stream from {master}: {receiver}"
        # Streaming is reported as soon as the receiver connects, before it
        # has caught up: the standby must have what the primary had a moment
        # ago, or the next fault measures its catch-up, not the failover.
        try:
            was = master.pg.lsn()
            has = other.pg.receive_lsn()
        except LabError as e:
            return str(e).splitlines()[0][:160]
        if has is None or has < was:
            return f"{other}'s server has not caught up with {master}"
        return None

    def wait_converged(self, timeout: float) -> tuple[float, str | None]:
        """(seconds it took, None) or (timeout, the last reason it had not)."""
        t0 = time.monotonic()
        reason = None
        while time.monotonic() - t0 < timeout:
            reason = self.converged()
            if reason is None:
                return time.monotonic() - t0, None
            time.sleep(0.25)
        return timeout, reason
