"""The shipped systemd unit (packaging/pgvrrpd.service) as the tests need
it: its [Service] settings, the capabilities it leaves pgvrrpd, and a
setpriv prefix that runs a command as root with exactly those, the way
systemd starts the daemon.

    node.prefix = setpriv_prefix(unit_capabilities())
"""
from __future__ import annotations

import os

UNIT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "packaging",
                    "pgvrrpd.service")


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
