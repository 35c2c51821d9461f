#!/usr/bin/env python3
"""The log never stops the daemon. n1, the master, logs to stderr through a
pipe whose reader does not read for a while (a journal that hangs, say);
SIGUSR1 after SIGUSR1 makes it log until the pipe is full. A blocking
write would stop its loop, its adverts with it, and n2 would take over.
n1 must keep advertising (n2 stays BACKUP, the VIP stays on n1), drop the
lines it cannot write, and say how many once the pipe is read again."""
import os
import signal
import time

from netlab import Lab
from pgvrrpd_node import PGVRRPD_BIN, PgvrrpdNode, assert_single_holder
from processes import LabError, children, cmdline, log, wait_until
from runner import run_test

VIP = "198.51.100.100"
KEYS = {"advert_interval": 0.1, "virtual_ip": [VIP + "/24"]}
READER_ASLEEP = 10.0  # seconds before the pipe's reader starts reading


def main():
    with Lab("log_not_read") as lab:
        n1 = lab.add_host("n1", ipv4="198.51.100.11/24")
        n2 = lab.add_host("n2", ipv4="198.51.100.12/24")
        master = PgvrrpdNode(n1, priority=200, **KEYS)
        with open(master.ini_path, "w") as f:
            f.write(master.ini_text())
        t0 = time.monotonic()
        wrapper = n1.spawn(["/bin/sh", "-c",
                            f"exec {PGVRRPD_BIN} -f {master.ini_path} --log stderr 2>&1 | "
                            f"(sleep {READER_ASLEEP}; exec cat)"], "n1-pgvrrpd-piped")

        def daemon_pid():
            for pid in children(wrapper.pid):
                if cmdline(pid)[:1] == [PGVRRPD_BIN]:
                    return pid
            return None

        pid = wait_until(daemon_pid, 5, what="pgvrrpd under the wrapper")
        # n1 master first: started together on a loaded machine, n2 could
        # win the election, and with preempt off n1 would stay backup.
        wait_until(lambda: n1.has_address(VIP), 5, what="the VIP on n1")
        backup = PgvrrpdNode(n2, priority=100, **KEYS).start()
        backup.wait_state("BACKUP", 5)

        # ~110 bytes a SIGUSR1: 1500 of them overfill the 64 KiB pipe.
        for _ in range(1500):
            os.kill(pid, signal.SIGUSR1)
            time.sleep(0.002)
        # Meanwhile, and for 2 s more, n1 kept advertising.
        time.sleep(2.0)
        if any(t[1] == "MASTER" for t in backup.transitions()):
            raise LabError(f"n2 took over while n1's log was not read: "
                           f"{backup.transitions()}")
        assert_single_holder([n1, n2], VIP, n1)
        state = open(f"/proc/{pid}/wchan").read().strip()
        if state == "pipe_write":
            raise LabError("n1's pgvrrpd is blocked writing its log")
        if time.monotonic() - t0 >= READER_ASLEEP:
            raise LabError("too slow: the reader woke before the checks were done")

        # The reader wakes; the next line tells how many were dropped.
        wait_until(lambda: time.monotonic() - t0 > READER_ASLEEP + 0.5, READER_ASLEEP + 1)
        os.kill(pid, signal.SIGUSR1)
        text = wrapper.log_text
        wait_until(lambda: "log lines dropped: the log was not taking them" in text(), 5,
                   what="the count of dropped log lines")
        line = next(l for l in text().splitlines() if "log lines dropped" in l)
        log(line)
        dropped = int(line.split("warning: ")[1].split()[0])
        if dropped <= 0:
            raise LabError(f"no lines were dropped, so the pipe never filled: {line}")
        print(f"RESULT log_not_read dropped={dropped} n2_stayed_backup=1", flush=True)


run_test(main)
