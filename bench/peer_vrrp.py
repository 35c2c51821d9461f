"""pgvrrpd and keepalived as Contenders (bench/peer_lab.py) for
bench/compare.py: the labs of the integration tests (pg_pair.PgPair,
keepalived_pair.KeepalivedPgPair, configured as their docstrings say),
seen through the interface every tool of the comparison shares."""
from __future__ import annotations

import signal

import pgvrrpd_node
from keepalived_pair import KeepalivedPgPair
from netlab import Lab
from peer_lab import VIP, Contender, stop_postgres, tool_version
from pg_pair import PgPair
from processes import LabError, wait_until
from sync_kills import add_app_role, standby_names
from replication import rebuild_as_standby, rewind_as_standby, writers


class _PairContender(Contender):
    """The part both VRRP labs share: PgPair-shaped objects with n1, n2, cl,
    p, s and a daemon per node (d1, d2: kill, start)."""

    def __init__(self, lab: Lab, pair):
        self.lab, self.pair = lab, pair
        self.n1, self.n2, self.cl = pair.n1, pair.n2, pair.cl
        self.third = None
        self.pg = {"n1": pair.p, "n2": pair.s}
        self.daemons = {"n1": pair.d1, "n2": pair.d2}

    def start(self) -> None:
        self.pair.start()

    def config(self) -> str:
        return self.pair.config("n1")

    def kill_daemon(self, short: str) -> None:
        self.daemons[short].kill(signal.SIGKILL)

    def restart_daemon(self, short: str) -> None:
        self.daemons[short].start()

    def primary(self) -> str | None:
        holders = [s for s in ("n1", "n2") if self.host(s).has_address(VIP)]
        live = writers([self.pg[s] for s in holders])
        return holders[0] if len(holders) == 1 and live else None

    def healthy(self) -> str | None:
        primary = self.primary()
        if not primary:
            return "no single primary holding the VIP"
        other = "n2" if primary == "n1" else "n1"
        return self.standby_problem(primary, other) or self.streaming(primary)

    def standby_problem(self, primary: str, other: str) -> str | None:
        """What, besides streaming, keeps `other` from being a healthy standby."""
        raise NotImplementedError

    def streaming(self, primary: str) -> str | None:
        other = "n2" if primary == "n1" else "n1"
        try:
            self.pg[other].wait_streaming(self.pg[primary], 0.5)
        except LabError:
            return f"{other} does not stream from {primary}"
        return None


class PgvrrpdContender(_PairContender):
    # The shipped examples (etc/n1.ini) track a ping of the gateway as a
    # witness: a host that exists anyway, not a machine added for pgvrrpd.
    machines = "2 (+ the gateway, pinged)"

    def __init__(self, lab: Lab):
        super().__init__(lab, PgPair(lab, witness=True))
        self.third = self.pair.gw
        self.name = f"pgvrrpd {tool_version([pgvrrpd_node.PGVRRPD_BIN, '--version'])}".strip()

    def server_back(self, short: str) -> None:
        # As pgvrrpd(8) advises: PostgreSQL is not started at boot, pgvrrpd
        # is; its rejoin hook brings the server back as a standby.
        self.boot(short)
        self.daemons[short].start()

    def standby_problem(self, primary: str, other: str) -> str | None:
        if self.daemons[other].state() != "BACKUP" or self.daemons[primary].state() != "MASTER":
            return f"states {self.daemons['n1'].state()} / {self.daemons['n2'].state()}"
        return None

    def repair(self, short: str) -> list[str]:
        """pgvrrpd(8), Rejoin: a rejoin that keeps failing (pg_rewind
        refused, and no BASEBACKUP_FALLBACK) leaves the server down; the
        operator copies the primary afresh and starts it as a standby,
        which pgvrrpd then sees as an eligible backup."""
        other = "n2" if short == "n1" else "n1"
        stop_postgres(self.pg[short])
        rebuild_as_standby(self.pg[short], self.pg[other])
        return ["pg_basebackup from the new primary, standby.signal, pg_ctl start"]


class PgvrrpdSyncContender(PgvrrpdContender):
    """pgvrrpd with `synchronous = on` (etc/n1.ini: the primary names its
    standby synchronous, and goes on without it after sync_grace, 5 s by
    default): the mode pgvrrpd(8) offers against lost writes, as Patroni's
    synchronous_mode and pg_auto_failover's default are."""

    def __init__(self, lab: Lab, mode: str = "on"):
        super().__init__(lab)
        for d in (self.pair.d1, self.pair.d2):
            d.routers["pg"].update(synchronous=mode)
        self.name += f", synchronous = {mode}"
        # Not a superuser: while commits wait for a standby, the slots of
        # superuser_reserved_connections stay free for pgvrrpd's checks and
        # the rejoin hook (a writer that gives up on a commit leaves its
        # backend waiting; found when strict's rejoin never came).
        self.client_user = "app"

    def start(self) -> None:
        super().start()
        wait_until(lambda: standby_names(self.pg["n1"]).startswith("FIRST 1 ("), 10, 0.1,
                   "n1 naming n2 synchronous")
        add_app_role(self.pair)


class KeepalivedContender(_PairContender):
    machines = "2"

    def __init__(self, lab: Lab):
        super().__init__(lab, KeepalivedPgPair(lab))
        self.name = f"keepalived {tool_version(['keepalived', '--version'], 1)}".strip()

    def server_back(self, short: str) -> None:
        # keepalived and PostgreSQL both started at boot, as a keepalived
        # pair is run: nothing else would start the server.
        self.boot(short)
        self.pg[short].start()
        self.daemons[short].start()

    def standby_problem(self, primary: str, other: str) -> str | None:
        if not self.daemons[other].alive():
            return f"keepalived not running on {other}"
        if self.pg[other] in writers([self.pg[other]]):
            return f"{other}'s server is a second primary"
        return None

    def repair(self, short: str) -> list[str]:
        """keepalived does nothing for the database: the operator rewinds the
        old primary against the new one and starts it as a standby."""
        other = "n2" if short == "n1" else "n1"
        steps = []
        if stop_postgres(self.pg[short]):
            steps.append("pg_ctl stop")
        rewind_as_standby(self.pg[short], self.pg[other])
        steps.append("pg_rewind --source-server=<new primary>, standby.signal, pg_ctl start")
        return steps
