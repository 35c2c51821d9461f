"""The shipped systemd unit (packaging/pgvrrpd.service) as the tests need
it: its [Service] settings, the capabilities it leaves pgvrrpd, and a
prefix that runs a command the way systemd starts the daemon: inside the
unit's whole sandbox (unit_sandbox.py), as the unit's User= (postgres)
with exactly the unit's capabilities.

    run_under_unit(node)               # a PgvrrpdNode, the unit as it is
    run_under_unit(node, caps)         # with other capabilities
    cmd = [*sandbox_prefix(lab), ...]  # any command
"""
from __future__ import annotations

import os
import pwd
import shutil
import threading

UNIT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "packaging",
                    "pgvrrpd.service")
SANDBOX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "unit_sandbox.py")


def service_settings(path: str = UNIT) -> dict[str, list[str]]:
    """[Service] key -> its values in file order (a key may repeat)."""
    settings: dict[str, list[str]] = {}
    section = None
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line.strip("[]")
            elif section == "Service" and "=" in line:
                key, value = line.split("=", 1)
                settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def unit_capabilities(path: str = UNIT) -> list[str]:
    """CapabilityBoundingSet, e.g. ["CAP_NET_RAW", ...]."""
    caps: list[str] = []
    for value in service_settings(path).get("CapabilityBoundingSet", []):
        caps += value.split()
    return caps


def unit_user(path: str = UNIT) -> str:
    return (service_settings(path).get("User") or ["root"])[-1]


def runtime_dir(lab) -> str:
    """The lab's /run/pgvrrpd (RuntimeDirectory=): the unit's user's, 0755,
    as systemd makes it."""
    path = lab.path("run-pgvrrpd")
    if not os.path.isdir(path):
        os.mkdir(path, 0o755)
        pw = pwd.getpwnam(unit_user())
        os.chown(path, pw.pw_uid, pw.pw_gid)
        # The unit's user must reach it (and the lab's config files).
        os.chmod(lab.tmpdir, 0o711)
    return path


def lab_mapping(lab) -> dict[str, str]:
    """Where the unit's writable places are in a lab. The lab keeps
    PostgreSQL's and pgvrrpd's files in its temp dir (a root mkdtemp under
    /tmp, which the sandbox's private /tmp would hide), so all three stand
    for it:

        /var/lib/postgresql  -> lab.tmpdir  PGDATA is LAB/pg-NAME/data (pglab.py)
        /run/postgresql      -> lab.tmpdir  the socket directories, LAB/pg-NAME
        /run/pgvrrpd         -> LAB/run-pgvrrpd  RuntimeDirectory=, the unit
                                            user's: the control sockets

    /var/lib/prometheus/node-exporter (metrics_file) is optional in the unit
    ('-') and not mapped: skipped where absent, as systemd skips it; a test
    that writes metrics maps its own directory there."""
    return {"/var/lib/postgresql": lab.tmpdir, "/run/postgresql": lab.tmpdir,
            "/run/pgvrrpd": runtime_dir(lab)}


def sandbox_prefix(lab, caps: list[str] | None = None,
                   mapping: dict[str, str] | None = None) -> list[str]:
    """Runs the command after it as systemd runs the unit: in an emulation
    of its whole sandbox (unit_sandbox.py: ProtectSystem=, PrivateTmp=,
    seccomp filters...), as the unit's user with the unit's capabilities,
    or `caps`.
    The unit's writable paths are the lab's (lab_mapping, plus `mapping`).
    Debian's interpreter: python3-seccomp is its module."""
    argv = ["/usr/bin/python3", "-B", SANDBOX]
    for unit_path, lab_path in {**lab_mapping(lab), **(mapping or {})}.items():
        argv += ["--map", f"{unit_path}={lab_path}"]
    if caps is not None:
        argv.append("--caps=" + ",".join(caps))
    return argv + ["--"]


def readable_binary(lab, binary: str) -> str:
    """`binary` where the unit's user can run it: the build itself when
    every directory above it lets others through, else a copy in a
    directory of root's under /run (a checkout under /root is closed to
    postgres), removed with the lab."""
    directory = os.path.dirname(os.path.abspath(binary))
    while directory != "/":
        if not os.stat(directory).st_mode & 0o001:
            break
        directory = os.path.dirname(directory)
    else:
        return binary
    from pg_pair import ScriptDir  # pg_pair imports this module
    copies = getattr(lab, "unit_binaries", None)
    if copies is None:
        copies = lab.unit_binaries = ScriptDir(lab, "pgvrrpd-unit-bin-", {})
    copy = copies.script(os.path.basename(binary))
    if not os.path.exists(copy):
        shutil.copy2(binary, copy)
    return copy


def run_under_unit(node, caps: list[str] | None = None,
                   mapping: dict[str, str] | None = None) -> None:
    """Makes a PgvrrpdNode start as systemd runs the unit: sandbox_prefix,
    its control socket in the lab's /run/pgvrrpd, the build where the
    unit's user can run it."""
    lab = node.host.lab
    node.prefix = sandbox_prefix(lab, caps, mapping)
    if node.socket_path is None:
        node.socket_path = os.path.join(runtime_dir(lab),
                                        f"{node.host.short}-{node.name}.sock")
    node.binary = readable_binary(lab, node.binary)


class PathUnitStandIn:
    """systemd's part of packaging/pgvrrpd-start-postgresql@.path for the
    lab, which has no systemd: when `watched` is created or written
    (PathChanged=), runs `start` (what postgresql@CLUSTER.service's start
    does, its ExecStartPre= guard included) in `host`'s namespace, as
    systemd would, outside pgvrrpd's sandbox. A change while a start runs
    is taken after it (systemd ignores changes while the unit is active;
    the stand-in does not know when a server is up, and a second start of
    a running server fails harmlessly). Each run's output is kept in
    `runs`."""

    def __init__(self, host, watched: str, start: list[str]):
        self.host, self.watched, self.start = host, watched, start
        self.runs: list[str] = []
        self._stopped = threading.Event()
        self._seen = self._stamp()
        host.lab.stoppables.append(self)
        threading.Thread(target=self._watch, daemon=True,
                         name=f"path-unit-{os.path.basename(watched)}").start()

    def _stamp(self):
        try:
            st = os.stat(self.watched)
            return (st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        except FileNotFoundError:
            return None

    def _watch(self):
        while not self._stopped.wait(0.02):
            stamp = self._stamp()
            if stamp == self._seen or stamp is None:
                self._seen = stamp
                continue
            self._seen = stamp
            cp = self.host.run(self.start, check=False, timeout=120)
            self.runs.append(f"exit {cp.returncode}: {cp.stdout}{cp.stderr}")

    def stop(self):
        self._stopped.set()
