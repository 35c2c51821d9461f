#!/usr/bin/python3 -B
"""What a process may do, as JSON, for test_unit_sandbox.py: run as a hook
of pgvrrpd in the unit's sandbox, and as a control outside it (where each
probe must work, so that a refusal inside is the sandbox's doing). Every
probe is harmless outside: it writes only in the test's own places,
changes only itself or a child that exits at once.

    sandbox_probe.py OUT RO_DIR RW_DIR MARKER OTHER_PID [hook arguments]

OUT: where the JSON goes. RO_DIR: a directory of root's outside the
unit's writable paths. RW_DIR: one inside them (the lab's PGDATA stand-in).
MARKER: a file the test made in the host's /tmp. OTHER_PID: a process of
another user (nobody). It leaves a file in /tmp, which the test looks for
on the host (and removes, after the control run)."""
import ctypes
import errno
import json
import mmap
import os
import socket
import stat
import subprocess
import sys

libc = ctypes.CDLL(None, use_errno=True)


def outcome(fn):
    """"ok" or the errno's name."""
    try:
        fn()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def syscall(*args) -> None:
    if libc.syscall(*args) < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def in_child(fn) -> str:
    """fn's outcome in a child that exits at once (it changes the process)."""
    pid = os.fork()
    if pid == 0:
        try:
            fn()
            os._exit(0)
        except OSError as e:
            os._exit(e.errno or 1)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return "ok" if code == 0 else errno.errorcode.get(code, str(code))


def write(path: str) -> None:
    with open(path, "w") as f:
        f.write("probe\n")
    os.unlink(path)


def chmod_suid(directory: str) -> None:
    path = os.path.join(directory, "probe-suid")
    open(path, "w").close()
    try:
        os.chmod(path, 0o4755)
    finally:
        os.unlink(path)


def readonly(path: str) -> bool:
    return bool(os.statvfs(path).f_flag & os.ST_RDONLY)


def status() -> dict:
    with open("/proc/self/status") as f:
        fields = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
    return {k: fields.get(k, "").strip().split()[0] for k in
            ("Uid", "NoNewPrivs", "Seccomp", "CapPrm", "CapEff", "CapBnd", "CapAmb", "Umask")}


def other_families() -> list[str]:
    """The address families outside the unit's list that a socket could be
    opened in."""
    opened = []
    for name in ("AF_VSOCK", "AF_KEY", "AF_ALG", "AF_TIPC", "AF_CAN", "AF_BLUETOOTH",
                 "AF_RDS", "AF_LLC", "AF_X25", "AF_AX25", "AF_APPLETALK"):
        family = getattr(socket, name, None)
        if family is None:
            continue
        for kind in (socket.SOCK_DGRAM, socket.SOCK_SEQPACKET, socket.SOCK_STREAM,
                     socket.SOCK_RAW):
            try:
                socket.socket(family, kind, 0).close()
                opened.append(name)
                break
            except OSError:
                pass
    return opened


def block_devices() -> list[str]:
    out = []
    for root, _, files in os.walk("/dev"):
        for name in files:
            try:
                if stat.S_ISBLK(os.lstat(os.path.join(root, name)).st_mode):
                    out.append(os.path.join(root, name))
            except OSError:
                pass
    return out


def main():
    out, ro_dir, rw_dir, marker, other_pid = sys.argv[1:6]
    tmp_file = f"/tmp/sandbox-probe-{os.getpid()}"
    with open(tmp_file, "w") as f:
        f.write("probe\n")
    # A change of user (the hooks of a root pgvrrpd do it; under the unit
    # nothing may).
    as_nobody = subprocess.run(["/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup",
                                "--clear-groups", "/usr/bin/id", "-u"],
                               capture_output=True, text=True, check=False)
    result = {
        "status": status(),
        "write_outside": outcome(lambda: write(os.path.join(ro_dir, "probe"))),
        "write_inside": outcome(lambda: write(os.path.join(rw_dir, "probe"))),
        "tmp_file": tmp_file,
        "marker_seen": os.path.exists(marker),
        "root_listing": outcome(lambda: os.listdir("/root")),
        "pid1_seen": os.path.exists("/proc/1/status"),
        "other_user_process_seen": os.path.exists(f"/proc/{other_pid}"),
        "proc_sys_readonly": readonly("/proc/sys"),
        "sys_readonly": readonly("/sys"),
        "kallsyms": outcome(lambda: open("/proc/kallsyms").close()),
        "block_devices": block_devices(),
        "mmap_write_exec": outcome(lambda: mmap.mmap(-1, 4096,
                                                     prot=mmap.PROT_WRITE | mmap.PROT_EXEC)),
        "setpriority": outcome(lambda: os.setpriority(os.PRIO_PROCESS, 0, 1)),
        "chmod_suid": outcome(lambda: chmod_suid(rw_dir)),
        # PER_LINUX32; personality(2) is 135 on x86_64.
        "personality": in_child(lambda: syscall(135, 0x0008)),
        # ptrace(PTRACE_TRACEME): not in @system-service.
        "ptrace": in_child(lambda: syscall(101, 0, 0, 0, 0)),
        # unshare(CLONE_NEWUSER)
        "user_namespace": in_child(lambda: syscall(272, 0x10000000)),
        "other_families": other_families(),
        "as_nobody": as_nobody.stdout.strip() if as_nobody.returncode == 0 else
        f"exit {as_nobody.returncode}: {as_nobody.stderr.strip()}",
    }
    with open(out, "w") as f:
        json.dump(result, f)


main()
