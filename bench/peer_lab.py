"""What every high-availability tool in bench/compare.py shares (issue 12):
the Contender interface the benchmark drives, the faults that act on a
lab host whatever runs there, and the filling of the configuration
templates kept in bench/peers/<tool>/.

A Contender is one tool's lab: n1 (the primary at the start), n2 (its
streaming standby), cl (the client), and, where the tool needs one, a third
host (.third) for its consensus store, monitor or witness. Every tool's
PostgreSQL runs with pglab.COMMON_CONF's settings, so that the servers are
alike and only the tool differs.
"""
from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time

from netlab import Host, Lab
from pglab import COMMON_CONF, PG_BIN, PG_USER, PgNode
from processes import LabError, cmdline, exited, log, reap_orphans, wait_until
from writer import Writer

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS_DIR = os.path.join(HERE, "peers")
N1_ADDR, N2_ADDR, CLIENT_ADDR, THIRD_ADDR = ("198.51.100.11", "198.51.100.12", "198.51.100.20",
                                             "198.51.100.30")
VIP = "198.51.100.100"
VIP_PREFIX = 24
PLACEHOLDER = re.compile(r"@([A-Z0-9_]+)@")


def fill(text: str, values: dict[str, object], what: str) -> str:
    """text with every @KEY@ replaced by values[KEY]; a key the text names
    and values lacks is an error (no half-filled config)."""
    missing = sorted({m for m in PLACEHOLDER.findall(text) if m not in values})
    if missing:
        raise LabError(f"{what}: no value for {', '.join('@' + m + '@' for m in missing)}")
    return PLACEHOLDER.sub(lambda m: str(values[m[1]]), text)


def fill_template(name: str, values: dict[str, object]) -> str:
    """bench/peers/NAME, filled (fill)."""
    with open(os.path.join(PEERS_DIR, name)) as f:
        return fill(f.read(), values, name)


def pglab_parameters() -> dict[str, str]:
    """pglab.COMMON_CONF's settings (what pgvrrpd's lab servers run with) as
    name -> value, for Patroni's postgresql.parameters. Its include of the
    per-node file is left out: Patroni sets listen_addresses, port and
    cluster_name itself."""
    params = {}
    for line in COMMON_CONF.splitlines():
        m = re.match(r"\s*(\w+)\s*=\s*('(?:[^']|'')*'|\S+)", line)
        if m and m[1] != "include":
            value = m[2]
            params[m[1]] = value[1:-1].replace("''", "'") if value.startswith("'") else value
    return params


def lab_bin_dir(lab: Lab, no_sync: tuple[str, ...] = ("pg_rewind",)) -> str:
    """PG_BIN as Patroni's bin_dir sees it: every program linked, except
    those of no_sync (pg_rewind), wrapped to add --no-sync. The servers run with fsync off; a
    pg_rewind that flushes its ~1000 files one by one took minutes on this
    machine while other labs used the disk, where the rewind itself takes
    under a second (pgvrrpd's lab passes REWIND_OPTIONS=--no-sync for the
    same reason), and Patroni 3.0.2 has no setting for pg_rewind's
    options."""
    bindir = lab.path("pgbin")
    os.makedirs(bindir)
    os.chmod(bindir, 0o755)
    for prog in os.listdir(PG_BIN):
        if prog not in no_sync:
            os.symlink(os.path.join(PG_BIN, prog), os.path.join(bindir, prog))
    for prog in no_sync:
        wrapper = os.path.join(bindir, prog)
        with open(wrapper, "w") as f:
            # Patroni probes with `pg_rewind --help`, which must stay the
            # first argument; getopt takes --no-sync after the others.
            f.write("#!/bin/sh\n"
                    'case "$1" in --help|-V|--version) exec %s "$@";; esac\n'
                    'exec %s "$@" --no-sync\n' % ((os.path.join(PG_BIN, prog),) * 2))
        os.chmod(wrapper, 0o755)
    return bindir


def tool_version(argv: list[str], word: int = -1) -> str:
    """Word `word` of the first line `argv` prints (its --version), "" if
    it cannot run."""
    try:
        cp = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except OSError:
        return ""
    lines = (cp.stdout or cp.stderr).strip().splitlines()
    words = lines[0].split() if lines else []
    return words[word] if -len(words) <= word < len(words) else ""


def ns_pids(host: Host) -> set[int]:
    """The processes in the host's namespace, read from /proc here: `ip
    netns pids` takes two process starts per listing (tens of ms on a loaded
    machine, while the server half-lives), and run inside the namespace it
    would list itself."""
    ns = os.stat(f"/run/netns/{host.ns}")
    pids = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                st = os.stat(f"/proc/{entry}/ns/net")
            except OSError:     # gone, or a zombie
                continue
            if (st.st_dev, st.st_ino) == (ns.st_dev, ns.st_ino):
                pids.add(int(entry))
    return pids - {os.getpid()}


def kill_host(lab: Lab, host: Host, link_first: bool = False) -> float:
    """The whole server dies: every process in the host's namespace frozen
    first, so that none acts on another's death and a postmaster forks no
    backend for a client meanwhile (listed again until no new one shows up:
    one forked between the listing and its parent's SIGSTOP would live on,
    attached to the shared memory, and the next start would refuse it),
    then SIGKILLed; then the link goes down. link_first: the link goes down
    before the SIGKILL, so that the dying kernel's FIN and RST never reach
    the peer, as with a server that loses power. Returns the
    time.monotonic() of the first SIGSTOP: from then on the server answers
    nothing."""
    frozen: set[int] = set()
    t_dead = None
    while new := ns_pids(host) - frozen:
        t_dead = t_dead or time.monotonic()
        for pid in new:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        frozen |= new
    if t_dead is None:
        raise LabError(f"{host.short}: nothing runs in {host.ns} to kill")
    if link_first:
        host.link_down()
    for pid in frozen:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if not link_first:
        host.link_down()
    wait_until(lambda: all(exited(p) for p in frozen), 10,
               what=f"{host.short}'s processes {sorted(frozen)} to die")
    # Nothing should be left; if something shows up all the same, it dies
    # too, and the log says what it was.
    for _ in range(100):
        if not (left := ns_pids(host) - frozen):
            break
        log(f"{host.short}: killing {', '.join(f'{p} {cmdline(p)[:3]}' for p in left)}, "
            f"found after the kill")
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        frozen |= left
        time.sleep(0.05)
    for p in lab.procs:
        if p.host is host and p.alive():
            p.wait(10)
    # Postmasters and their children were reparented to us (the lab makes
    # this process a subreaper): reap them now, not at teardown.
    reap_orphans({p.pid for p in lab.procs if p.alive()})
    return t_dead


def postmaster_pid(pg: PgNode) -> int | None:
    """The running postmaster of pg's data directory (postmaster.pid's first
    line), whoever started it."""
    try:
        with open(os.path.join(pg.datadir, "postmaster.pid")) as f:
            pid = int(f.readline())
    except (OSError, ValueError):
        return None
    return pid if not exited(pid) else None


def kill_postgres(pg: PgNode) -> None:
    """PostgreSQL dies: what `pg_ctl stop -m immediate` does (SIGQUIT to the
    postmaster), to a server whatever started it; waits for it to exit."""
    if not stop_postgres(pg, signal.SIGQUIT):
        raise LabError(f"{pg}: no postmaster running to kill")


def stop_postgres(pg: PgNode, sig: int = signal.SIGINT) -> bool:
    """The server of pg's data directory stopped (fast by default), whoever
    started it; False if none ran."""
    pid = postmaster_pid(pg)
    if pid is None:
        return False
    os.kill(pid, sig)
    wait_until(lambda: exited(pid), 30, 0.01, f"{pg}'s postmaster {pid} to exit")
    if pg.proc and pg.proc.pid == pid:
        pg.proc.wait(5)
    return True


class Contender:
    """One tool's lab, as bench/compare.py drives it. Subclasses set the
    class attributes and implement the methods that raise here.

    name      what the table calls it, with the versions
    machines  how many machines the pair needs, and the third's role
    has_vip   whether clients follow a virtual IP (else the tool's own way)
    """

    name = ""
    machines = "2"
    has_vip = True
    # The role the benchmark's clients write as. A tool whose primary may
    # hold commits waiting for a standby gives them an application's role:
    # a client that gives up on such a commit leaves its backend waiting,
    # and superusers' would fill the slots kept for the tool's own checks.
    client_user = PG_USER

    def __init__(self, lab: Lab):
        self.lab = lab
        self.n1 = lab.add_host("n1", ipv4=f"{N1_ADDR}/{VIP_PREFIX}")
        self.n2 = lab.add_host("n2", ipv4=f"{N2_ADDR}/{VIP_PREFIX}")
        self.cl = lab.add_host("cl", ipv4=f"{CLIENT_ADDR}/{VIP_PREFIX}")
        self.third: Host | None = None
        # The PostgreSQL servers by host short name: psql over the node's
        # unix socket, the data directory; the tool owns their lifecycle.
        self.pg: dict[str, PgNode] = {}

    def add_third(self, short: str) -> Host:
        """The third machine a tool needs (its store, monitor or witness)."""
        self.third = self.lab.add_host(short, ipv4=f"{THIRD_ADDR}/{VIP_PREFIX}")
        return self.third

    def host(self, short: str) -> Host:
        return {"n1": self.n1, "n2": self.n2}[short]

    def boot(self, short: str) -> None:
        """The node's link back up, without the VIP it held before the
        fault: a machine that boots has none of the addresses it had."""
        host = self.host(short)
        host.link_up()
        host.run(["ip", "addr", "flush", "to", f"{VIP}/32"], check=False)

    # -- set-up
    def start(self) -> None:
        """n1's server the primary with the writes table, n2's a standby
        streaming from it, the tool on both (and the third host) and the
        client's way to the primary (the VIP on n1) in place."""
        raise NotImplementedError

    def writer(self, **kw) -> Writer:
        """The client's writes, the way the tool's documentation has
        clients find the primary; kw: writer.Writer's keywords."""
        return Writer(self.cl, [VIP], user=self.client_user, **kw).start()

    def config(self) -> str:
        """n1's configuration as run (for the report)."""
        raise NotImplementedError

    # -- faults on a node ("n1" or "n2")
    def kill_postgres(self, short: str) -> None:
        kill_postgres(self.pg[short])

    def kill_server(self, short: str) -> float:
        return kill_host(self.lab, self.host(short))

    def kill_daemon(self, short: str) -> None:
        """The tool's daemon on the node SIGKILLed (frozen first where it
        has several processes), PostgreSQL left running."""
        raise NotImplementedError

    def restart_daemon(self, short: str) -> None:
        """What systemd's Restart= does after kill_daemon."""
        raise NotImplementedError

    def server_back(self, short: str) -> None:
        """The node killed by kill_server boots again: its link up, the
        tool started as at boot (it starts or rejoins PostgreSQL if it
        does that by itself)."""
        raise NotImplementedError

    # -- state
    def primary(self) -> str | None:
        """The node the tool has made the primary now, None if none."""
        raise NotImplementedError

    def healthy(self) -> str | None:
        """None when the pair is whole again (one primary, the other node's
        server streaming from it, the tool running on both); else what is
        missing."""
        raise NotImplementedError

    def repair(self, short: str) -> list[str]:
        """What an operator does by hand, as the tool's documentation says,
        to bring `short` back as a healthy standby when the tool did not;
        done here, and returned as the steps taken (for the table)."""
        raise NotImplementedError
