#!/usr/bin/env python3
"""Issue 10, systemd: pgvrrpd against a real NOTIFY_SOCKET listener, the
way a Type=notify unit with WatchdogSec runs it (in the unit's sandbox,
with its capabilities only).

- READY=1 comes once the router has decided its role, not at start: n1
  after it became MASTER, n2 once it heard n1 (BACKUP); each with STATUS=
  naming the router's state; a later transition updates STATUS.
- WATCHDOG=1 pings come from the event loop, twice per WATCHDOG_USEC; a
  daemon that is stopped (SIGSTOP: a stuck loop) sends none, so systemd
  would restart it; they resume after.
- SIGTERM: STOPPING=1."""
import os
import signal
import socket
import threading
import time

from netlab import Lab
from pgvrrpd_node import PgvrrpdNode
from processes import LabError, log, wait_until
from runner import run_test
from systemd_unit import run_under_unit

VIP = "198.51.100.100"
WATCHDOG_USEC = 400_000  # pings every 0.2 s


class NotifyListener:
    """A datagram socket standing in for systemd's, recording (time, message)."""

    def __init__(self, path: str):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        # As systemd's /run/systemd/notify: services of any user send there.
        os.chmod(path, 0o777)
        self.sock.settimeout(0.2)
        self.messages: list[tuple[float, str]] = []
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            self.messages.append((time.monotonic(), data.decode()))

    def stop(self):
        self.running = False
        self.thread.join()
        self.sock.close()
        os.unlink(self.path)

    def first(self, text: str) -> float | None:
        return next((t for t, m in self.messages if text in m.split("\n")), None)

    def with_key(self, key: str) -> list[tuple[float, str]]:
        return [(t, line) for t, m in self.messages for line in m.split("\n")
                if line.startswith(key)]


def daemon(host, lab, listener, **keys):
    node = PgvrrpdNode(host, advert_interval=0.1, virtual_ip=[VIP + "/24"], **keys)
    node.env = {"NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": str(WATCHDOG_USEC)}
    run_under_unit(node)
    return node


def main():
    with Lab("systemd_notify") as lab:
        n1 = lab.add_host("n1", ipv4="198.51.100.11/24")
        n2 = lab.add_host("n2", ipv4="198.51.100.12/24")
        l1 = NotifyListener(lab.path("n1-notify.sock"))
        l2 = NotifyListener(lab.path("n2-notify.sock"))
        try:
            d1 = daemon(n1, lab, l1, priority=200)
            t_start = time.monotonic()
            d1.start()
            wait_until(lambda: l1.first("READY=1") is not None, 5, 0.01, "n1's READY=1")
            ready = l1.first("READY=1") - t_start
            ready_message = next(m for t, m in l1.messages if "READY=1" in m.split("\n"))
            if "STATUS=pg MASTER" not in ready_message.split("\n"):
                raise LabError(f"n1's READY=1 came without STATUS=pg MASTER: {ready_message!r}")
            if d1.state() != "MASTER":
                raise LabError("READY=1 before n1 became MASTER")
            # Master_Down_Interval at 0.1 s adverts and priority 200: 0.32 s.
            if ready < 0.3:
                raise LabError(f"READY=1 {ready:.3f} s after start: before the router decided")
            log(f"n1: READY=1 with STATUS=pg MASTER {ready * 1000:.0f} ms after start")

            d2 = daemon(n2, lab, l2, priority=100)
            t2 = time.monotonic()
            d2.start()
            wait_until(lambda: l2.first("READY=1") is not None, 5, 0.01, "n2's READY=1")
            ready2 = l2.first("READY=1") - t2
            if ("STATUS=pg BACKUP" not in [l for _, l in l2.with_key("STATUS=")]
                    or d2.state() != "BACKUP"):
                raise LabError(f"n2's READY=1 without STATUS=pg BACKUP: {l2.messages[:3]}")
            log(f"n2: READY=1 with STATUS=pg BACKUP {ready2 * 1000:.0f} ms after start "
                "(it heard the master)")

            # The watchdog: twice per WATCHDOG_USEC, from the loop.
            time.sleep(2)
            t0 = time.monotonic()
            time.sleep(2)
            pings = [t for t, _ in l1.with_key("WATCHDOG=1") if t >= t0]
            if len(pings) < 7:
                raise LabError(f"{len(pings)} WATCHDOG=1 in 2 s, expected ~10")
            d1.kill(signal.SIGSTOP)
            t_stop = time.monotonic()
            time.sleep(1.5)
            t_cont = time.monotonic()
            d1.kill(signal.SIGCONT)
            time.sleep(1)
            during = [t for t, _ in l1.with_key("WATCHDOG=1") if t_stop + 0.05 < t < t_cont]
            after = [t for t, _ in l1.with_key("WATCHDOG=1") if t > t_cont]
            if during or not after:
                raise LabError(f"watchdog pings while stopped: {len(during)}, after: {len(after)}")
            log(f"watchdog: {len(pings)} pings in 2 s; none in 1.5 s stopped; "
                f"{len(after)} in the second after")

            # A transition updates STATUS: n1 goes, n2 becomes MASTER.
            d1.stop()
            if l1.first("STOPPING=1") is None:
                raise LabError(f"no STOPPING=1 at SIGTERM: {l1.messages[-3:]}")
            d2.wait_state("MASTER", 5)
            wait_until(lambda: "STATUS=pg MASTER" in [l for _, l in l2.with_key("STATUS=")],
                       2, 0.01, "n2's STATUS=pg MASTER")
            if len([1 for _, l in l2.with_key("READY=1")]) != 1:
                raise LabError("READY=1 sent more than once")
            log("SIGTERM: STOPPING=1; n2's STATUS follows its takeover")
            d2.stop()
            print(f"RESULT systemd_notify ready_ms={ready * 1000:.0f} "
                  f"backup_ready_ms={ready2 * 1000:.0f} pings_2s={len(pings)}", flush=True)
        finally:
            l1.stop()
            l2.stop()


run_test(main)
