#!/usr/bin/env python3
"""Issue 10, "the shipped unit is broken": pgvrrpd run as systemd runs it,
in the unit's sandbox (unit_sandbox.py), as postgres with only the
capabilities of packaging/pgvrrpd.service (ambient ones), does all its
work: adverts (it becomes MASTER), the VIP, a hook (as postgres, with no
capability at all: pgvrrpd empties its ambient set), and killing a hung
hook at hook_timeout. A hook_user other than its own is refused at start,
with the reason. Then each capability of the unit is taken away in turn,
and the work that needs it must fail in the way the log names: so the set
is exactly what is used. A capability added to the unit with nothing here
that needs it fails the test, as does one the daemon needs beyond the set
(the full-set run fails)."""
import os
import pwd
import re
import signal
import time

from netlab import Lab
from pg_pair import ScriptDir
from pgvrrpd_node import PgvrrpdNode
from processes import LabError, log, wait_until
from runner import run_test
from systemd_unit import run_under_unit, unit_capabilities, unit_user

VIP = "198.51.100.100"
UNIT_UID = pwd.getpwnam(unit_user()).pw_uid


class Run:
    """pgvrrpd on n1 with `caps`, watched for a few seconds."""

    def __init__(self, lab, host, scripts, caps, **keys):
        self.caps = caps
        self.node = PgvrrpdNode(host, priority=200, advert_interval=0.1,
                                virtual_ip=[VIP + "/24"], vip_lease=3,
                                accept_any_source=True,
                                on_master=scripts.script("whoami"),
                                notify=scripts.script("hang"),
                                hook_timeout=0.5, **keys)
        run_under_unit(self.node, caps)
        self.node.start()
        self.host = host
        self.hang_pid = None

    def log_has(self, pattern: str) -> bool:
        return re.search(pattern, self.node.log_text()) is not None

    def wait_log(self, pattern: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log_has(pattern):
                return True
            if not self.node.proc.alive():
                return self.log_has(pattern)
            time.sleep(0.05)
        return False

    def finish(self) -> None:
        """Stops the daemon and any hang hook it could not kill (by pid)."""
        m = re.search(r"notify: hang pid (\d+)", self.node.log_text())
        if self.node.proc.alive():
            self.node.stop(timeout=15)
        if m:
            pid = int(m.group(1))
            # Only if it still is the hook we started (a sleep as the unit's user).
            try:
                with open(f"/proc/{pid}/status") as f:
                    status = f.read()
                if re.search(rf"^Uid:\s+{UNIT_UID}\b", status, re.M) and \
                        "Name:\tsleep" in status:
                    os.kill(pid, signal.SIGKILL)
            except FileNotFoundError:
                pass
        self.host.run(["ip", "addr", "flush", "to", VIP + "/32"], check=False)


def works_with_all(r: Run) -> None:
    r.node.wait_state("MASTER", 5)
    wait_until(lambda: r.host.has_address(VIP), 5, 0.02, "the VIP on n1")
    if not r.wait_log(rf"on_master: uid={UNIT_UID} CapInh:\s*[0-9a-f]+ CapPrm:\s*0+ CapEff:\s*0+ "
                      r"CapBnd:\s*[0-9a-f]+ CapAmb:\s*0+\b", 5):
        raise LabError(f"the on_master hook did not run as {unit_user()} with no "
                       f"capabilities:\n{r.node.recent_log(30)}")
    if not r.wait_log(r"notify timed out and was killed with its process group", 8):
        raise LabError(f"the hung notify hook was not killed:\n{r.node.recent_log(30)}")
    if r.log_has(r"Operation not permitted|cannot stop"):
        raise LabError(f"something was not permitted:\n{r.node.recent_log(40)}")


# What breaks without each capability, as the log says it.
NEEDED_FOR = {
    "CAP_NET_RAW": (r"socket\(IPPROTO_VRRP\): Operation not permitted", "raw VRRP socket"),
    "CAP_NET_ADMIN": (r"add VIP .*Operation not permitted", "adding the VIP"),
}


def main():
    caps = unit_capabilities()
    log(f"the unit's capabilities: {' '.join(caps)}")
    unused = [c for c in caps if c not in NEEDED_FOR]
    if unused:
        raise LabError(f"the unit grants {unused}, which nothing here shows to be used: "
                       "add the failure it prevents to NEEDED_FOR, or take it out")
    with Lab("unit_capabilities") as lab:
        n1 = lab.add_host("n1", ipv4="198.51.100.11/24")
        scripts = ScriptDir(lab, "pgvrrpd-caps-", {
            "whoami": "#!/bin/sh\necho \"uid=$(id -u)\" $(grep ^Cap /proc/self/status)\n",
            "hang": "#!/bin/sh\necho \"hang pid $$\"\nexec sleep 60\n",
        })
        r = Run(lab, n1, scripts, caps)
        try:
            works_with_all(r)
        finally:
            r.finish()
        log(f"with the unit's capabilities: MASTER, the VIP, a hook as {unit_user()} with no "
            "capabilities, a hung one killed")
        r = Run(lab, n1, scripts, caps, hook_user="nobody")
        try:
            if r.node.proc.wait(10) is None or not r.log_has(
                    r"hook_user nobody: pgvrrpd runs as \S+, not root, and cannot run hooks as "
                    r"another user"):
                raise LabError(f"hook_user = nobody was not refused at start:\n"
                               f"{r.node.recent_log(20)}")
        finally:
            r.finish()
        log("hook_user = nobody: refused at start, with the reason")
        for cap in caps:
            pattern, what = NEEDED_FOR[cap]
            r = Run(lab, n1, scripts, [c for c in caps if c != cap])
            try:
                # Without CAP_KILL the give-up comes after timeout, grace and
                # the 5 s death wait.
                if not r.wait_log(pattern, 12):
                    raise LabError(f"without {cap} ({what}) nothing failed as expected "
                                   f"(/{pattern}/):\n{r.node.recent_log(40)}")
            finally:
                r.finish()
            log(f"without {cap}: {what} fails, as logged")
        print(f"RESULT unit_capabilities caps={','.join(caps)} each_needed=yes", flush=True)


run_test(main)
