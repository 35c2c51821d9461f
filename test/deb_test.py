#!/usr/bin/env python3
"""packaging/deb.sh: the .deb builds from the tree, lintian reports no
errors (its warnings and notes are printed), it installs with
`apt-get install ./pgvrrpd_*.deb`, the installed pgvrrpd runs
(--version, --check-config on the installed example config, the unit
verifies with its man pages present, and so does the path unit its hooks
start PostgreSQL through), and it is removed and purged with
nothing left behind. Needs root (it installs the package on this machine);
exits 77 (skipped) without it."""
import glob
import os
import re
import subprocess
import sys

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
failures = []


def run(cmd, timeout=600, check=False):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    if check and r.returncode != 0:
        print(f"FAIL {' '.join(cmd)}: exit {r.returncode}\n{r.stdout}{r.stderr}")
        sys.exit(1)
    return r


def expect(what, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(f"{what}: {detail}")


if os.geteuid() != 0:
    print("SKIPPED: needs root (installs the package)")
    sys.exit(77)
if run(["dpkg-query", "-W", "-f=${Status}", "pgvrrpd"]).stdout.startswith("install"):
    print("SKIPPED: a pgvrrpd package is installed on this machine already; not touching it")
    sys.exit(77)

deb = run(["sh", os.path.join(TOP, "packaging", "deb.sh"), "--built"], check=True).stdout.strip()
expect("deb.sh builds build/pgvrrpd_VERSION_ARCH.deb",
       re.search(r"/build/pgvrrpd_[0-9.]+_[a-z0-9]+\.deb$", deb) and os.path.exists(deb), deb)

lint = run(["lintian", "--tag-display-limit", "0", "--display-info", deb])
tags = [l for l in lint.stdout.splitlines() if re.match(r"^[EWIXPO]: ", l)]
for line in tags:
    print("     lintian " + line)
errors = [l for l in tags if l.startswith("E: ")]
warnings = [l for l in tags if l.startswith("W: ")]
print(f"     lintian: {len(errors)} errors, {len(warnings)} warnings, "
      f"{len(tags) - len(errors) - len(warnings)} notes")
expect("lintian reports no errors", not errors and lint.returncode in (0, 1), lint.stdout + lint.stderr)

try:
    r = run(["apt-get", "install", "-y", "-q", deb])
    expect("apt-get install ./pgvrrpd_*.deb", r.returncode == 0, r.stdout[-2000:] + r.stderr)
    files = run(["dpkg", "-L", "pgvrrpd"]).stdout.split()

    r = run(["/usr/sbin/pgvrrpd", "--version"])
    expect("the installed pgvrrpd --version", r.returncode == 0 and
           r.stdout.startswith("pgvrrpd "), r.stdout + r.stderr)
    r = run(["/usr/sbin/pgvrrpctl", "--version"])
    expect("the installed pgvrrpctl --version", r.returncode == 0 and
           r.stdout.startswith("pgvrrpctl "), r.stdout + r.stderr)
    r = run(["/usr/sbin/pgvrrpd", "--check-config", "-f", "/etc/pgvrrpd/pgvrrpd.ini"])
    expect("--check-config on the installed example (hooks in /usr/lib/pgvrrpd/hooks)",
           r.returncode == 0 and r.stdout == "configuration OK\n", r.stdout + r.stderr)
    r = run(["systemd-analyze", "verify", "/lib/systemd/system/pgvrrpd.service"])
    expect("the installed unit verifies, man pages included",
           r.returncode == 0 and not r.stderr.strip(), r.stdout + r.stderr)
    # The path unit the hooks start PostgreSQL through, for Debian's 15-main.
    r = run(["systemd-analyze", "verify", "pgvrrpd-start-postgresql@15-main.path"])
    expect("the installed pgvrrpd-start-postgresql@15-main.path verifies",
           "/lib/systemd/system/pgvrrpd-start-postgresql@.path" in files and
           r.returncode == 0 and not r.stderr.strip(), r.stdout + r.stderr)
    expect("request-start is installed with the hooks, executable",
           os.access("/usr/lib/pgvrrpd/hooks/request-start", os.X_OK))
    for page in ("pgvrrpd", "pgvrrpd.ini", "pgvrrpctl"):
        r = run(["man", "-w", page])
        expect(f"man {page} finds the page", r.returncode == 0, r.stderr)
finally:
    r = run(["apt-get", "remove", "--purge", "-y", "-q", "pgvrrpd"])
expect("apt-get remove --purge pgvrrpd", r.returncode == 0, r.stdout[-2000:] + r.stderr)
left = [f for f in files if os.path.exists(f) and not os.path.isdir(f)]
expect("removal leaves none of its files", not left, left)
expect("purge removes /etc/pgvrrpd", not os.path.exists("/etc/pgvrrpd"))

if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
