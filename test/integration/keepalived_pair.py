"""The PgPair lab (n1 primary, n2 streaming standby, client cl, VIP
198.51.100.100) run by keepalived instead of pgvrrpd, configured as well as
keepalived's own documentation allows for the job (issue 4's benchmark):

- VRRPv3, advert_int 0.1, both nodes `state BACKUP` + `nopreempt` (a
  returning old master must not take the VIP back from the new primary);
  n1 priority 254, n2 253 (as pgvrrpd's, pg_pair.py).
- vrrp_script chk_pg: pg_isready on the local socket (primary or standby
  both count as up), at keepalived's smallest interval: `interval` is whole
  seconds in keepalived 2.2.7 (keepalived.conf(5): "interval <INTEGER>"),
  so 1; timeout 1; fall 1, rise 1 (pg_isready's "no response" is a
  definitive answer, one failure is enough; anything smaller is impossible).
  No weight: a failed check puts the instance in FAULT (it drops the VIP).
- notify_master: promote the local server if it is a standby, as
  pgvrrpd's promote hook does (pg_ctl promote as the data directory's
  owner, else one psql call: pg_promote(true, 60) if in recovery), logging
  to a file.
- global_defs (from keepalived_lab.Keepalived): enable_script_security, script_user
  root; the scripts live in a root-owned 0755 directory under /run
  (pg_pair.ScriptDir), which keepalived's script security accepts (it
  refuses scripts in or under non-root-writable directories such as /tmp).

    with Lab("ka_pg") as lab:
        pair = KeepalivedPgPair(lab)
        pair.start()                     # n1 MASTER with the VIP, n2 BACKUP
        w = pair.writer(fast=True)       # vip_writer through the VIP, every 10 ms
        pair.p.stop("immediate") ...
        pair.promote_log("n2")           # what the notify_master script did
"""
from __future__ import annotations

import time

from keepalived_lab import Keepalived
from netlab import Lab
from pg_pair import N1_PRIORITY, N2_PRIORITY, VIP, PgPair, ScriptDir
from pglab import PG_BIN
from processes import LabError, wait_until
from replication import make_primary, make_standby

CHECK_PG = f"""#!/bin/sh
# keepalived vrrp_script: is the local PostgreSQL up (primary or standby)?
# $1 socket directory, $2 port
exec {PG_BIN}/pg_isready -q -h "$1" -p "$2" -U postgres -t 1
"""

PROMOTE = f"""#!/bin/sh
# keepalived notify_master: promote the local PostgreSQL if it is a standby,
# as pgvrrpd's shipped promote hook does: pg_ctl promote (as the data
# directory's owner: keepalived runs it as root), else one psql call.
# $1 socket directory, $2 port, $3 log file, $4 data directory
exec >>"$3" 2>&1
echo "notify_master at $(cut -d' ' -f1 /proc/uptime)"
if /usr/bin/setpriv --reuid=postgres --regid=postgres --init-groups -- \\
     {PG_BIN}/pg_ctl promote -D "$4" -w -t 60 >/dev/null 2>&1; then
  r=true
else
  r=$({PG_BIN}/psql -X -A -t -q -h "$1" -p "$2" -U postgres -d postgres -c \\
    "SELECT CASE WHEN pg_is_in_recovery() THEN pg_promote(true, 60)::text ELSE 'primary' END")
fi
echo "promote: $r at $(cut -d' ' -f1 /proc/uptime)"
"""


class PgKeepalived(Keepalived):
    """keepalived_lab.Keepalived with top-level blocks (vrrp_script) before the instance."""

    def __init__(self, host, *, top: str = "", **kw):
        super().__init__(host, **kw)
        i = self.config_text.index("vrrp_instance ")
        self.config_text = self.config_text[:i] + top + self.config_text[i:]


class KeepalivedPgPair:
    def __init__(self, lab: Lab, advert_int: float = 0.1, check_interval: int = 1,
                 fall: int = 1, rise: int = 1):
        self.lab = lab
        self.n1 = lab.add_host("n1", ipv4="198.51.100.11/24")
        self.n2 = lab.add_host("n2", ipv4="198.51.100.12/24")
        self.cl = lab.add_host("cl", ipv4="198.51.100.20/24")
        self.scripts = ScriptDir(lab, "keepalived-pg-",
                                 {"check_pg": CHECK_PG, "promote": PROMOTE})
        self.p = make_primary(self.n1, listen="*")
        self.s = make_standby(self.p, self.n2, listen="*")
        self.nodes: dict[str, PgKeepalived] = {}
        for host, node, prio in ((self.n1, self.p, N1_PRIORITY),
                                 (self.n2, self.s, N2_PRIORITY)):
            top = (f"vrrp_script chk_pg {{\n"
                   f"    script \"{self.scripts.script('check_pg')} {node.sockdir} {node.port}\"\n"
                   f"    interval {check_interval}\n    timeout 1\n"
                   f"    fall {fall}\n    rise {rise}\n}}\n")
            inst = (f"track_script {{\n    chk_pg\n}}\n"
                    f"notify_master \"{self.scripts.script('promote')} {node.sockdir} "
                    f"{node.port} {self.promote_log_path(host.short)} {node.datadir}\"\n")
            self.nodes[host.short] = PgKeepalived(
                host, top=top, vips=[VIP + "/24"], priority=prio, advert_int=advert_int,
                version=3, state="BACKUP", nopreempt=True, extra_instance=inst)
        self.k1, self.k2 = self.nodes["n1"], self.nodes["n2"]
        self.d1, self.d2 = self.k1, self.k2   # n1's and n2's daemon, as PgPair names them

    def promote_log_path(self, short: str) -> str:
        return self.lab.path(f"{short}-promote.log")

    def promote_log(self, short: str) -> str:
        try:
            with open(self.promote_log_path(short)) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def config(self, short: str) -> str:
        return self.nodes[short].config_text

    def start(self):
        """n1's keepalived first (it becomes master: its server is the
        primary), then n2's, which stays backup (nopreempt, lower priority)."""
        self.k1.start()
        wait_until(lambda: self.n1.has_address(VIP), 10, 0.02, "the VIP on n1")
        self.k2.start()
        time.sleep(1.5)  # a check interval and some adverts
        if self.n2.has_address(VIP) or not self.n1.has_address(VIP):
            raise LabError(f"expected the VIP on n1 only; n1 {self.n1.addresses()}, "
                           f"n2 {self.n2.addresses()}")

    # The faults, the writer and the probe are PgPair's: they only need
    # d1 (n1's daemon: kill, start), p, n1, cl and the lab.
    kill_n1_server = PgPair.kill_n1_server
    kill_n1_daemon = PgPair.kill_n1_daemon
    restart_n1_daemon = PgPair.restart_n1_daemon
    writer = PgPair.writer
    write_outage = staticmethod(PgPair.write_outage)
    two_primaries_probe = PgPair.two_primaries_probe
