#!/usr/bin/env python3
"""Issue 10, the unit's sandbox: pgvrrpd run in the emulation of
packaging/pgvrrpd.service's sandbox (unit_sandbox.py, as every lab user of
the unit runs it) does its work, and the sandbox holds.

- The emulation covers the unit: every [Service] setting is emulated,
  listed as safe not to be, or lifecycle; a unit with one more setting
  makes the launcher refuse to run.
- The daemon becomes MASTER and holds the VIP; it writes its metrics file
  in the unit's /var/lib/prometheus/node-exporter (here a directory of
  root's under /run, mapped there: the rest of /run is read-only) with
  mode 0644 (UMask=0022: node_exporter runs as another user); it runs in a
  mount namespace of its own, with no new privileges, seccomp and the
  unit's capabilities.
- The daemon runs as the unit's user (postgres) with the unit's two
  capabilities effective and none ambient (it emptied the set).
- Its on_master hook (pgvrrpd's own user, as in the example configs) runs
  sandbox_probe.py, which a control run outside the sandbox (as root) did
  first: everything the sandbox refuses worked there. Inside: the hook has
  no capability; a write outside the writable paths fails with EROFS, one
  in the PGDATA stand-in works; /tmp is its own; /root cannot be listed
  (ProtectHome=yes); other users' processes (root's pid 1, nobody's) are
  hidden from /proc; /proc/sys and /sys are read-only, /proc/kallsyms
  closed, /dev holds no block device; setpriority, a setuid chmod,
  personality(), ptrace (outside @system-service), a user namespace,
  sockets of other families and a change of user (setpriv, ~@privileged)
  fail."""
import json
import os
import re
import subprocess
import tempfile

from netlab import Lab
from pg_pair import ScriptDir
from pgvrrpd_node import PgvrrpdNode
from processes import LabError, log, wait_until
from runner import run_test
import pwd

from systemd_unit import (SANDBOX, UNIT, run_under_unit, service_settings, unit_capabilities,
                          unit_user)
from unit_sandbox import CAP_NUMBERS, uncovered

VIP = "198.51.100.100"
PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sandbox_probe.py")
METRICS_DIR = "/var/lib/prometheus/node-exporter"  # the unit's, ReadWritePaths=-...
NOBODY_UID = 65534


def check(results: list[str], what: str, ok: bool, detail: object = "") -> None:
    results.append(f"{'ok  ' if ok else 'FAIL'} {what}" + ("" if ok else f": {detail}"))


def coverage(lab) -> None:
    """Every setting accounted for; a unit with one more is refused."""
    unknown = uncovered(service_settings())
    if unknown:
        raise LabError(f"unit settings neither emulated nor listed in unit_sandbox.py: "
                       f"{unknown}")
    drifted = lab.path("drifted.service")
    with open(UNIT) as f:
        text = f.read()
    with open(drifted, "w") as f:
        f.write(text.replace("[Service]\n", "[Service]\nInaccessiblePaths=/srv\n"))
    cp = subprocess.run(["/usr/bin/python3", "-B", SANDBOX, "--unit", drifted, "--",
                         "/bin/true"], capture_output=True, text=True, timeout=30)
    if cp.returncode != 2 or "InaccessiblePaths" not in cp.stderr:
        raise LabError(f"a unit with a setting the emulation does not know was run: "
                       f"exit {cp.returncode} {cp.stderr}")
    log("the emulation covers every setting of the unit, and refuses one it does not know")


def probe_args(out, ro_dir, rw_dir, marker, other_pid) -> list[str]:
    return [out, ro_dir, rw_dir, marker, str(other_pid)]


def daemon_process(node) -> dict:
    pid = node.proc.pid
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
    return {"mnt_ns": os.readlink(f"/proc/{pid}/ns/mnt"), **fields}


def main():
    with Lab("unit_sandbox") as lab:
        coverage(lab)
        n1 = lab.add_host("n1", ipv4="198.51.100.11/24")
        scripts = ScriptDir(lab, "pgvrrpd-sandbox-hooks-", {"probe": open(PROBE).read()})
        # Root's, under /run (read-only in the sandbox): the metrics
        # directory (mapped to the unit's) and one that is not writable.
        metrics = ScriptDir(lab, "pgvrrpd-sandbox-metrics-", {})
        outside = ScriptDir(lab, "pgvrrpd-sandbox-ro-", {})
        rw_dir = lab.path("pgdata-stand-in")
        os.mkdir(rw_dir)
        # The unit's user's, as PGDATA and the textfile directory must be.
        unit_pw = pwd.getpwnam(unit_user())
        for path in (rw_dir, metrics.path):
            os.chown(path, unit_pw.pw_uid, unit_pw.pw_gid)
        marker_fd, marker = tempfile.mkstemp(prefix="pgvrrpd-sandbox-marker-", dir="/tmp")
        os.close(marker_fd)
        other = n1.spawn(["setpriv", f"--reuid={NOBODY_UID}", "--regid=nogroup",
                          "--clear-groups", "sleep", "120"], "nobody-sleep")
        try:
            scenario(lab, n1, scripts, metrics, outside, rw_dir, marker, other.pid)
        finally:
            os.unlink(marker)


def scenario(lab, n1, scripts, metrics, outside, rw_dir, marker, other_pid):
    results: list[str] = []
    # The control: the probe outside the sandbox, as root in n1's namespace.
    control_out = lab.path("probe-outside.json")
    n1.run(["/usr/bin/python3", "-B", scripts.script("probe"),
            *probe_args(control_out, outside.path, rw_dir, marker, other_pid)], timeout=60)
    with open(control_out) as f:
        c = json.load(f)
    log(f"outside the sandbox: {c}")
    check(results, "control: its /tmp file is on the host", os.path.exists(c["tmp_file"]))
    if os.path.exists(c["tmp_file"]):
        os.unlink(c["tmp_file"])
    must_work = ("write_outside", "write_inside", "kallsyms", "mmap_write_exec", "setpriority",
                 "chmod_suid", "personality", "ptrace")
    for key in must_work:
        check(results, f"control: {key} works outside", c[key] == "ok", c[key])
    check(results, "control: the /tmp marker is seen outside", c["marker_seen"])
    check(results, "control: another user's process is seen outside",
          c["other_user_process_seen"])

    # Where the hook (the unit's user) may write.
    inside_out = os.path.join(rw_dir, "probe-inside.json")
    # The probe's arguments do not fit on a line of pgvrrpd.ini.
    hook = ScriptDir(lab, "pgvrrpd-sandbox-hook-", {"on_master": (
        "#!/bin/sh\nexec " + " ".join([scripts.script("probe"), *probe_args(
            inside_out, outside.path, rw_dir, marker, other_pid)]) + "\n")})
    node = PgvrrpdNode(n1, priority=200, advert_interval=0.1, virtual_ip=[VIP + "/24"],
                       vip_lease=3, accept_any_source=True,
                       hook_timeout=30, on_master=hook.script("on_master"))
    metrics_file = os.path.join(metrics.path, "pgvrrpd.prom")
    node.global_keys = {"metrics_file": metrics_file, "metrics_interval": 1}
    run_under_unit(node, mapping={METRICS_DIR: metrics.path})
    node.start()
    try:
        node.wait_state("MASTER", 10)
        wait_until(lambda: n1.has_address(VIP), 5, 0.02, "the VIP on n1")
        wait_until(lambda: os.path.exists(inside_out), 30, 0.1,
                   lambda: f"the probe hook's result; log:\n{node.recent_log(30)}")
        wait_until(lambda: os.path.exists(metrics_file), 10, 0.1,
                   lambda: f"the metrics file; log:\n{node.recent_log(30)}")
        d = daemon_process(node)
        host_ns = os.readlink("/proc/self/ns/mnt")
    finally:
        node.stop(timeout=15)
    with open(inside_out) as f:
        i = json.load(f)
    log(f"inside the sandbox: {i}")
    check(results, "the daemon's log has no refusal",
          not re.search(r"Operation not permitted|Read-only file system|Bad system call|"
                        r"Permission denied", node.log_text()), node.recent_log(40))

    caps = unit_capabilities()
    if set(caps) - set(CAP_NUMBERS):
        raise LabError(f"add {set(caps) - set(CAP_NUMBERS)} to CAP_NUMBERS")
    cap_mask = f"{sum(1 << CAP_NUMBERS[c] for c in caps):016x}"
    check(results, "the daemon runs in a mount namespace of its own", d["mnt_ns"] != host_ns)
    unit_uid = str(pwd.getpwnam(unit_user()).pw_uid)
    check(results, f"the daemon: uid {unit_user()}, NoNewPrivs 1, Seccomp 2 (filter), the "
          "unit's bounding set, those capabilities effective, none ambient",
          (d["Uid"].split()[0], d["NoNewPrivs"].strip(), d["Seccomp"].strip(),
           d["CapBnd"].strip(), d["CapEff"].strip(), d["CapAmb"].strip()) ==
          (unit_uid, "1", "2", cap_mask, cap_mask, "0" * 16),
          {k: d[k] for k in ("Uid", "NoNewPrivs", "Seccomp", "CapBnd", "CapEff", "CapAmb")})
    mode = os.stat(metrics_file).st_mode & 0o777
    check(results, "the metrics file is written, 0644 (UMask=0022)", mode == 0o644, oct(mode))
    check(results, f"the hook: uid {unit_user()}, no new privileges, seccomp, umask 0022, the "
          "unit's bounding set, no capability",
          i["status"] == {"Uid": unit_uid, "NoNewPrivs": "1", "Seccomp": "2",
                          "CapPrm": "0" * 16, "CapEff": "0" * 16, "CapBnd": cap_mask,
                          "CapAmb": "0" * 16, "Umask": "0022"}, i["status"])
    check(results, "a write outside ReadWritePaths= fails with EROFS",
          i["write_outside"] == "EROFS", i["write_outside"])
    check(results, "a write in the PGDATA stand-in works", i["write_inside"] == "ok",
          i["write_inside"])
    check(results, "/tmp is its own (the host's marker unseen, its file not on the host)",
          not i["marker_seen"] and not os.path.exists(i["tmp_file"]))
    check(results, "/root cannot be listed (ProtectHome=yes)",
          i["root_listing"] == "EACCES" and c["root_listing"] == "ok",
          (i["root_listing"], c["root_listing"]))
    check(results, "other users' processes (root's pid 1, nobody's) are hidden from the hook "
          "(ProtectProc=invisible)", not i["pid1_seen"] and not i["other_user_process_seen"]
          and c["pid1_seen"], (i["pid1_seen"], i["other_user_process_seen"]))
    check(results, "/proc/sys and /sys are read-only (ProtectKernelTunables=)",
          i["proc_sys_readonly"] and i["sys_readonly"] and not c["proc_sys_readonly"])
    check(results, "/proc/kallsyms is closed", i["kallsyms"] == "EACCES", i["kallsyms"])
    check(results, "/dev holds no block device (PrivateDevices=)", not i["block_devices"],
          i["block_devices"])
    if "MemoryDenyWriteExecute" in service_settings():
        check(results, "mmap W+X fails (MemoryDenyWriteExecute=)",
              i["mmap_write_exec"] == "EPERM", i["mmap_write_exec"])
    else:
        # What PostgreSQL's JIT needs in a server a hook starts.
        check(results, "mmap W+X works (no MemoryDenyWriteExecute=)",
              i["mmap_write_exec"] == "ok", i["mmap_write_exec"])
    check(results, "setpriority fails (SystemCallFilter=~@resources)",
          i["setpriority"] == "EPERM", i["setpriority"])
    check(results, "a setuid chmod fails (RestrictSUIDSGID=)", i["chmod_suid"] == "EPERM",
          i["chmod_suid"])
    check(results, "personality(PER_LINUX32) fails (LockPersonality=)",
          i["personality"] == "EPERM", i["personality"])
    check(results, "ptrace, outside @system-service, fails with EPERM "
          "(SystemCallErrorNumber=)", i["ptrace"] == "EPERM", i["ptrace"])
    if c["user_namespace"] == "ok":
        check(results, "a user namespace is refused (RestrictNamespaces=)",
              i["user_namespace"] == "EPERM", i["user_namespace"])
    else:
        log(f"user namespaces fail outside too ({c['user_namespace']}): not shown here")
    if c["other_families"]:
        check(results, f"sockets of other families ({', '.join(c['other_families'])}) are "
              "refused (RestrictAddressFamilies=)", not i["other_families"],
              i["other_families"])
    else:
        log("no address family outside the unit's opens here: not shown")
    check(results, "a change of user fails (no CAP_SETUID; SystemCallFilter=~@privileged)",
          i["as_nobody"] != str(NOBODY_UID) and c["as_nobody"] == str(NOBODY_UID),
          (i["as_nobody"], c["as_nobody"]))

    print("\n".join(results), flush=True)
    failed = [r for r in results if r.startswith("FAIL")]
    if failed:
        raise LabError(f"{len(failed)} sandbox checks failed:\n" + "\n".join(failed))
    print(f"RESULT unit_sandbox checks={len(results)} master=yes hook_probe=yes", flush=True)


run_test(main)
