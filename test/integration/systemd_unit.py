"""The shipped systemd unit (packaging/pgvrrpd.service) as the tests need
it: its [Service] settings, the capabilities it leaves pgvrrpd, and a
prefix that runs a command the way systemd starts the daemon: inside the
unit's whole sandbox (unit_sandbox.py), as root with exactly the unit's
capabilities.

    node.prefix = sandbox_prefix(lab)            # the unit as it is
    node.prefix = sandbox_prefix(lab, caps)      # with other capabilities
"""
from __future__ import annotations

import os

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


def setpriv_prefix(caps: list[str]) -> list[str]:
    """Runs the command after it as root whose capabilities are `caps` only
    (root gets its bounding set at exec), like a unit without User= and
    with CapabilityBoundingSet=caps."""
    names = ",".join("+" + c.removeprefix("CAP_").lower() for c in caps)
    return ["/usr/bin/setpriv", f"--bounding-set=-all{',' + names if names else ''}", "--"]


def lab_mapping(lab) -> dict[str, str]:
    """Where the unit's writable places are in a lab. The lab keeps
    PostgreSQL's and pgvrrpd's files in its temp dir (a root mkdtemp under
    /tmp, which the sandbox's private /tmp would hide), so all three stand
    for it:

        /var/lib/postgresql  -> lab.tmpdir  PGDATA is LAB/pg-NAME/data (pglab.py)
        /run/postgresql      -> lab.tmpdir  the socket directories, LAB/pg-NAME
        /run/pgvrrpd         -> lab.tmpdir  RuntimeDirectory=: the control
                                            sockets, LAB/HOST-ROUTER.sock

    /var/lib/prometheus/node-exporter (metrics_file) is optional in the unit
    ('-') and not mapped: skipped where absent, as systemd skips it; a test
    that writes metrics maps its own directory there."""
    return {"/var/lib/postgresql": lab.tmpdir, "/run/postgresql": lab.tmpdir,
            "/run/pgvrrpd": lab.tmpdir}


def sandbox_prefix(lab, caps: list[str] | None = None,
                   mapping: dict[str, str] | None = None) -> list[str]:
    """Runs the command after it as systemd runs the unit: in an emulation
    of its whole sandbox (unit_sandbox.py: ProtectSystem=, PrivateTmp=,
    seccomp filters...), as root with the unit's capabilities, or `caps`.
    The unit's writable paths are the lab's (lab_mapping, plus `mapping`).
    Debian's interpreter: python3-seccomp is its module."""
    argv = ["/usr/bin/python3", "-B", SANDBOX]
    for unit_path, lab_path in {**lab_mapping(lab), **(mapping or {})}.items():
        argv += ["--map", f"{unit_path}={lab_path}"]
    if caps is not None:
        argv.append("--caps=" + ",".join(caps))
    return argv + ["--"]
