#!/usr/bin/env python3
"""packaging/pgvrrpd.service against the code and the example configs:
systemd-analyze verify passes; every capability it grants is explained in
a comment (integration: unit_capabilities shows each is needed and that
the set is enough); `systemd-analyze security` rates its sandbox no worse
than SECURITY_AT_MOST, and each exposure it still counts is named in a
comment; every setting is emulated by the lab's unit_sandbox.py or listed
there as safe not to be (integration: unit_sandbox runs the daemon in
it); TimeoutStopSec outlasts the longest hook_timeout of
the examples (pgvrrpd lets a running hook finish at stop); pgvrrpd runs as
postgres with its two capabilities as ambient ones, and the examples leave
hook_user out (a non-root pgvrrpd cannot change user); PostgreSQL is not
left in pgvrrpd's cgroup: the examples start it through its own unit, by
the path unit packaging/pgvrrpd-start-postgresql@.path, which verifies
too; KillMode is not weakened. Needs no root and no network."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "integration"))
from systemd_unit import UNIT, service_settings, unit_capabilities  # noqa: E402
from unit_sandbox import uncovered  # noqa: E402

BIN = os.environ["PGVRRPD_BIN"]
# Issue 10's target (pgvrrpd(8), SYSTEMD, names what it still counts).
SECURITY_AT_MOST = 2.0
TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
failures = []


def expect(what, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(f"{what}: {detail}")


def seconds(value: str) -> float:
    """A systemd time span as used here ("630", "10min", "1min 30s")."""
    units = {"": 1, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "hr": 3600}
    total = 0.0
    for number, unit in re.findall(r"([\d.]+)\s*([a-z]*)", value):
        total += float(number) * units[unit]
    return total


def ini_values(path: str, key: str) -> list[str]:
    with open(path) as f:
        return re.findall(rf"(?m)^{key}\s*=\s*(.*?)\s*$", f.read())


with open(UNIT) as f:
    unit_text = f.read()
settings = service_settings()

# verify: the installed path of the daemon replaced by the built one (the
# unit is checked before anything is installed); man pages are checked by
# the package test, where they are installed.
work = tempfile.mkdtemp()
try:
    copy = os.path.join(work, "pgvrrpd.service")
    with open(copy, "w") as f:
        f.write(unit_text.replace("/usr/sbin/pgvrrpd", os.path.abspath(BIN)))
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", copy],
                       capture_output=True, text=True, timeout=60)
    expect("systemd-analyze verify passes", r.returncode == 0 and not r.stderr.strip(),
           f"exit {r.returncode}: {r.stdout}{r.stderr}")
    r = subprocess.run(["systemd-analyze", "security", "--offline=true", copy],
                       capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d)", r.stdout)
    figure = float(m.group(1)) if m else None
    expect(f"systemd-analyze security rates the unit {figure} (at most {SECURITY_AT_MOST})",
           figure is not None and figure <= SECURITY_AT_MOST, r.stdout[-3000:] + r.stderr)
    r = subprocess.run(["systemd-analyze", "security", "--offline=true", "--json=short", copy],
                       capture_output=True, text=True, timeout=60)
    exposures = [e["name"] for e in json.loads(r.stdout or "[]") if e.get("exposure")]
    path_unit = os.path.join(TOP, "packaging", "pgvrrpd-start-postgresql@.path")
    instance = os.path.join(work, "pgvrrpd-start-postgresql@15-main.path")
    shutil.copy(path_unit, instance)
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", instance],
                       capture_output=True, text=True, timeout=60)
    expect("systemd-analyze verify passes for pgvrrpd-start-postgresql@15-main.path",
           r.returncode == 0 and not r.stderr.strip(), f"exit {r.returncode}: {r.stdout}{r.stderr}")
    with open(path_unit) as f:
        path_text = f.read()
    expect("the path unit starts postgresql@CLUSTER.service on a change of "
           "/run/pgvrrpd/start/CLUSTER",
           re.search(r"(?m)^PathChanged=/run/pgvrrpd/start/%i$", path_text) and
           re.search(r"(?m)^Unit=postgresql@%i\.service$", path_text), path_text)
finally:
    shutil.rmtree(work)

caps = unit_capabilities()
expect("the unit limits capabilities", bool(caps), "no CapabilityBoundingSet")
comments = "\n".join(line for line in unit_text.splitlines() if line.lstrip().startswith("#"))
for cap in caps:
    expect(f"{cap} is explained in a comment", cap in comments)
for name in exposures:
    # "SystemCallFilter=~@privileged" -> @privileged, "User=/DynamicUser=" -> User=
    key = name.split("~")[1] if "=~@" in name else name.split("=")[0] + "="
    expect(f"the exposure {name} is explained in a comment", key in comments, key)
expect("every [Service] setting is emulated in the lab (test/integration/unit_sandbox.py) "
       "or listed there as safe not to be", not uncovered(settings), uncovered(settings))
ambient = " ".join(settings.get("AmbientCapabilities", [])).split()
expect("the ambient capabilities are the bounding set (pgvrrpd, not root, gets them so)",
       sorted(ambient) == sorted(caps), (ambient, caps))
expect("pgvrrpd runs as postgres, the owner of PGDATA (User=, Group=)",
       settings.get("User") == ["postgres"] and settings.get("Group") == ["postgres"],
       (settings.get("User"), settings.get("Group")))
expect("/run/pgvrrpd outlives a stop (its removal would trigger the path unit)",
       settings.get("RuntimeDirectoryPreserve") == ["yes"], settings.get("RuntimeDirectoryPreserve"))

expect("Type=notify (pgvrrpd sends READY=1, STATUS=, STOPPING=1)",
       settings.get("Type") == ["notify"], settings.get("Type"))
watchdog = seconds((settings.get("WatchdogSec") or ["0"])[-1])
expect("WatchdogSec is set (pings from the event loop)", watchdog > 0, watchdog)

kill_mode = (settings.get("KillMode") or ["control-group"])[-1]
expect("KillMode is control-group (hooks do not outlive the unit)",
       kill_mode == "control-group", kill_mode)

stop_timeout = seconds((settings.get("TimeoutStopSec") or ["90"])[-1])
for node in ("n1", "n2"):
    ini = os.path.join(TOP, "etc", f"{node}.ini")
    hook_timeout = max((float(v) for v in ini_values(ini, "hook_timeout")), default=60.0)
    expect(f"TimeoutStopSec ({stop_timeout:g} s) outlasts etc/{node}.ini's hook_timeout "
           f"({hook_timeout:g} s)", stop_timeout > hook_timeout)
    env = dict(v.split("=", 1) for v in ini_values(ini, "hook_env"))
    users = ini_values(ini, "hook_user")
    expect(f"etc/{node}.ini: PG_START_COMMAND asks PostgreSQL's own unit through the path unit",
           re.fullmatch(r"/usr/lib/pgvrrpd/hooks/request-start /run/pgvrrpd/start/\S+",
                        env.get("PG_START_COMMAND", "")) is not None, env.get("PG_START_COMMAND"))
    expect(f"etc/{node}.ini: no PG_STOP_COMMAND (the hooks stop the server with pg_ctl)",
           "PG_STOP_COMMAND" not in env, env.get("PG_STOP_COMMAND"))
    expect(f"etc/{node}.ini: no hook_user (the hooks run as pgvrrpd, postgres)", not users, users)

# The drop-in for PostgreSQL's unit runs --pre-start on the config the
# daemon's unit uses.
with open(os.path.join(TOP, "packaging", "postgresql-pgvrrpd.conf")) as f:
    dropin = [l.strip() for l in f if l.strip() and not l.lstrip().startswith("#")]
config = re.search(r"-f (\S+)", settings["ExecStart"][-1]).group(1)
expect("the PostgreSQL drop-in runs pgvrrpd --pre-start on the daemon's config",
       dropin[:1] == ["[Service]"] and len(dropin) == 2 and
       re.fullmatch(rf"ExecStartPre=/usr/sbin/pgvrrpd --pre-start( --wait \d+)? -f {config}",
                    dropin[1]) is not None, dropin)

if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
