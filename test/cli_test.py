#!/usr/bin/env python3
"""The command line as operators and scripts use it: --check-config output
and exit codes, --version, bad arguments. Needs no root and no network."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

BIN = os.environ["PGVRRPD_BIN"]
TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
failures = []


def run(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=10)


def expect(what, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(f"{what}: {detail}")


# The examples name the hooks where the package installs them; here they
# are copied into a directory only root can write (script security checks
# every directory above a hook): under /run, since the checkout itself may
# sit below a directory others can write (/tmp).
hook_dir = tempfile.mkdtemp(prefix="pgvrrpd-cli-hooks-", dir="/run")
os.chmod(hook_dir, 0o755)
for hook in ("promote", "fence", "rejoin", "switchover", "request-start", "as_owner.sh"):
    shutil.copy(os.path.join(TOP, "notify", "hooks", hook), hook_dir)
    os.chmod(os.path.join(hook_dir, hook), 0o755)
examples = tempfile.mkdtemp()
for node in ("n1", "n2"):
    with open(os.path.join(TOP, "etc", f"{node}.ini")) as f:
        text = f.read().replace("/usr/lib/pgvrrpd/hooks", hook_dir)
    path = os.path.join(examples, f"{node}.ini")
    with open(path, "w") as f:
        f.write(text)
    r = run("--check-config", "-f", path)
    expect(f"etc/{node}.ini is valid", r.returncode == 0 and r.stdout == "configuration OK\n",
           f"exit {r.returncode}, stdout {r.stdout!r}, stderr {r.stderr!r}")

r = run("--check-config", os.path.join(examples, "n1.ini"))
expect("--check-config FILE (without -f) works", r.returncode == 0, r.stderr)

# A hook a non-root user could replace is refused, with file:line.
unsafe = os.path.join(examples, "unsafe.ini")
unsafe_hook = os.path.join(examples, "promote")  # under /tmp: others can write there
shutil.copy(os.path.join(TOP, "notify", "hooks", "promote"), unsafe_hook)
os.chmod(unsafe_hook, 0o755)
with open(unsafe, "w") as f:
    f.write("[router pg]\ninterface = eth0\nvrid = 51\nvirtual_ip = 198.51.100.100/24\n"
            f"on_master = {unsafe_hook}\npeer = 198.51.100.12\n")
r = run("--check-config", "-f", unsafe)
expect("a hook in a directory others can write is refused",
       r.returncode == 1 and r.stderr.startswith(f"{unsafe}:5: on_master") and
       "writable by others" in r.stderr, r.stderr)
shutil.rmtree(examples)
shutil.rmtree(hook_dir)

with tempfile.TemporaryDirectory() as tmp:
    bad = os.path.join(tmp, "pgvrrpd.ini")
    with open(bad, "w") as f:
        f.write("[router pg]\ninterface = eth0\nvrid = 51\npriority = 300\n"
                "virtual_ip = 198.51.100.100/24\npriorty = 5\npeer = 198.51.100.12\n")
    r = run("--check-config", "-f", bad)
    want = (f"{bad}:4: priority must be 1..255, got 300\n"
            f"{bad}:6: unknown key 'priorty' in [router pg] (did you mean 'priority'?)\n")
    expect("a bad config: every error as file:line on stderr, exit 1",
           r.returncode == 1 and r.stderr == want and r.stdout == "",
           f"exit {r.returncode}, stderr {r.stderr!r}")
    # The file names programs run as root: only root may change it.
    os.chmod(bad, 0o666)
    r = run("--check-config", "-f", bad)
    expect("a config file others can write is refused, nothing else said",
           r.returncode == 1 and r.stderr == f"{bad}: is writable by others: it names programs "
           "pgvrrpd runs as root, so only root may change it\n",
           f"exit {r.returncode}, stderr {r.stderr!r}")
    os.chmod(bad, 0o644)
    # Running (not only checking) a bad config must fail before anything starts.
    r = run("-f", bad, "--log", "stderr")
    expect("running a bad config exits 1 with the same errors", r.returncode == 1 and
           r.stderr == want, f"exit {r.returncode}, stderr {r.stderr!r}")

r = run("--check-config", "-f", "/nonexistent/pgvrrpd.ini")
expect("a missing file is one clear error", r.returncode == 1 and
       "/nonexistent/pgvrrpd.ini" in r.stderr and "No such file" in r.stderr, r.stderr)

r = run("--version")
expect("--version", r.returncode == 0 and r.stdout.startswith("pgvrrpd "), r.stdout)

r = run("--frobnicate")
expect("unknown argument: usage, exit 2", r.returncode == 2 and "usage:" in r.stderr, r.stderr)

r = run()
expect("no config file: exit 2", r.returncode == 2 and "-f FILE" in r.stderr, r.stderr)

r = run("-f", os.path.join(TOP, "etc", "n1.ini"), "--log", "journal")
expect("bad --log value: exit 2", r.returncode == 2 and "--log" in r.stderr, r.stderr)

# --pre-start (the ExecStartPre of PostgreSQL's unit); the decision against
# real servers is integration: pg_pre_start.
r = run("--pre-start", "--wait", "soon", "-f", "x.ini")
expect("--pre-start --wait needs seconds: exit 2",
       r.returncode == 2 and "--wait takes seconds, 0..3600" in r.stderr, r.stderr)
r = run("--check-config", "--pre-start", "-f", "x.ini")
expect("--check-config with --pre-start: exit 2", r.returncode == 2, r.stderr)
with tempfile.TemporaryDirectory() as tmp:
    plain = os.path.join(tmp, "plain.ini")
    with open(plain, "w") as f:
        f.write("[router pg]\ninterface = eth0\nvrid = 51\nvirtual_ip = 198.51.100.100/24\n"
                "peer = 198.51.100.12\n")
    r = run("--pre-start", "-f", plain)
    expect("--pre-start without a postgres check: nothing to compare, exit 0",
           r.returncode == 0 and "nothing to compare with" in r.stderr, r.stderr)
    no_pgdata = os.path.join(tmp, "no-pgdata.ini")
    with open(no_pgdata, "w") as f:
        f.write("[router pg]\ninterface = eth0\nvrid = 51\nvirtual_ip = 198.51.100.100/24\n"
                "peer = 198.51.100.12\ntrack = pg\n[check pg]\ntype = postgres\n"
                "conninfo = host=/run/postgresql\npeer_conninfo = host=198.51.100.12\n")
    r = run("--pre-start", "--wait", "0", "-f", no_pgdata)
    expect("--pre-start without hook_env PGDATA: refused, exit 1",
           r.returncode == 1 and "hook_env PGDATA= is needed" in r.stderr, r.stderr)

# pgvrrpctl: every command its usage names is described in pgvrrpctl(8).
CTL = os.path.join(os.path.dirname(BIN), "pgvrrpctl")
r = subprocess.run([CTL, "--help"], capture_output=True, text=True, timeout=10)
# The commands: the first bare lowercase word after "pgvrrpctl" on each
# usage line (options and their values are in brackets or start with -).
commands = set()
for line in r.stdout.splitlines():
    words = line.split()
    if "pgvrrpctl" not in words:
        continue
    depth = 0
    for w in words[words.index("pgvrrpctl") + 1:]:
        if depth == 0 and re.fullmatch(r"[a-z]+", w):
            commands.add(w)
            break
        depth += w.count("[") - w.count("]")
commands = sorted(commands)
with open(os.path.join(TOP, "packaging", "man", "pgvrrpctl.8")) as f:
    page = f.read()
expect("pgvrrpctl --help names its commands", r.returncode == 0 and
       commands == ["maintenance", "promote", "reload", "status", "switchover"], commands)
for command in commands:
    expect(f"pgvrrpctl(8) describes '{command}'",
           re.search(rf"\n\.TP\n\.BR? {command}\b", page) is not None)
r = subprocess.run([CTL, "status", "--frobnicate"], capture_output=True, text=True, timeout=10)
expect("pgvrrpctl: an unknown option: usage, exit 2",
       r.returncode == 2 and "usage:" in r.stderr, r.stderr)
r = subprocess.run([CTL], capture_output=True, text=True, timeout=10)
expect("pgvrrpctl without a command: exit 2", r.returncode == 2, r.stderr)

if failures:
    print(f"{len(failures)} failed:\n" + "\n".join(failures))
    sys.exit(1)
