#!/usr/bin/env python3
"""The backup's daemon is frozen (SIGSTOP, as a stalled VM, a debugger or a
blocked log write would) for longer than the master down interval and the
peer check's freshness, then resumed. Its own freeze is not the master's
silence: the adverts queued while it slept show the master alive, and the
peer's last answer is old only because nobody asked.

A chaos soak found the case: frozen in the middle of an event loop turn
(not asleep in epoll), the daemon finished that turn on resuming, ran its
overdue timers before it looked at its sockets again, found the peer's
answer 3.6 s old, cleared its own takeover guard and promoted beside the
living primary. Half the rounds here freeze the daemon while it runs (state
R in /proc), the others wherever it is. The backup must stay BACKUP and its
server a standby, and the pair must never have two writable servers."""
import os
import random
import signal
import time

from netlab import Lab
from pg_pair import PgPair
from processes import LabError, log, proc_state
from runner import run_test

ROUNDS = int(os.environ.get("FROZEN_ROUNDS", "16"))


def stop_while_running(pid: int, patience: float) -> bool:
    """SIGSTOPs pid, the moment /proc shows it running if that comes within
    `patience` seconds (then True), else wherever it is (False)."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        state = proc_state(pid)
        if state and state[0] == "R":
            os.kill(pid, signal.SIGSTOP)
            return True
    os.kill(pid, signal.SIGSTOP)
    return False


def main():
    rng = random.Random(int(os.environ.get("FROZEN_SEED", "1")))
    with Lab("pg_backup_frozen") as lab:
        pair = PgPair(lab)
        pair.start()
        probe = pair.two_primaries_probe()
        pid = pair.d2.proc.pid
        caught_running = 0
        for i in range(ROUNDS):
            held = rng.uniform(0.6, 2.0)  # > master down interval and peer freshness
            time.sleep(rng.uniform(0.2, 0.6))
            running = stop_while_running(pid, 3.0) if i % 2 == 0 else (
                os.kill(pid, signal.SIGSTOP) or False)
            caught_running += running
            time.sleep(held)
            os.kill(pid, signal.SIGCONT)
            time.sleep(0.5)
            promoted = [t for t in pair.d2.transitions() if t[1] == "MASTER"]
            if promoted:
                raise LabError(f"round {i}: n2 became master after a {held:.1f} s freeze "
                               f"({'while running' if running else 'anywhere'}): {promoted}\n"
                               f"{pair.d2.recent_log(30)}")
            if not pair.s.is_in_recovery():
                raise LabError(f"round {i}: n2's server left recovery after a freeze")
            log(f"round {i}: frozen {held:.1f} s{' while running' if running else ''}, "
                f"n2 stayed {pair.d2.state()}")
        probe.check()
        if pair.d1.state() != "MASTER":
            raise LabError(f"n1 is {pair.d1.state()} after n2's freezes")
        stalls = pair.d2.log_text().count("event loop: could not read its sockets for")
        if not stalls:
            raise LabError("n2 never logged that it could not read its sockets while frozen")
        print(f"RESULT pg_backup_frozen rounds={ROUNDS} frozen_while_running={caught_running} "
              f"promotions=0 stall_warnings={stalls}", flush=True)


run_test(main)
