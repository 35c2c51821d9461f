#!/usr/bin/python3
"""unit_sandbox: runs a command inside an emulation of the sandbox of
packaging/pgvrrpd.service, the way systemd would set it up, for the lab
(which has no systemd as PID 1). Used as a prefix (systemd_unit.py,
sandbox_prefix):

    unit_sandbox.py [--unit FILE] [--map UNIT_PATH=LAB_PATH]... [--caps CAP,...]
                    -- COMMAND...

It reads the unit's [Service] settings and, in this order: a mount
namespace of its own (slave to the host's) with every hardening setting
that is a mount (ProtectSystem=strict, ReadWritePaths=, ProtectHome=,
BindReadOnlyPaths=, PrivateTmp=, PrivateDevices=, ProtectProc=,
ProtectKernel*=, ProtectControlGroups=), a UTS namespace
(ProtectHostname=), UMask=, NoNewPrivileges=, the seccomp filters
(SystemCallFilter= expanded with `systemd-analyze syscall-filter`, as
systemd itself expands the groups, then RestrictAddressFamilies=,
RestrictNamespaces=, MemoryDenyWriteExecute= and the others, each its
own filter as systemd loads them), then the unit's CapabilityBoundingSet
(or --caps), its User= and Group= with its AmbientCapabilities= (or
--caps), and execs COMMAND. The change of
user comes before the seccomp filters, as in systemd: they may deny it
(~@privileged).

--map: the lab's stand-in for a path of the unit (ReadWritePaths=,
RuntimeDirectory=): that path is made writable instead, and shown at its
own place even under the private /tmp (the lab's temp dir is under /tmp).
An optional ('-') path that is neither mapped nor present is skipped, as
systemd does.

Every [Service] setting of the unit is either emulated here (EMULATED),
not a sandbox setting (LIFECYCLE), or listed in NOT_EMULATED with the
reason it is safe not to: a setting in none of them makes this refuse to
run (exit 2), so that the unit and its emulation cannot drift apart.

What it does not do as systemd does, and why that does not matter here:
the device cgroup ACL (DevicePolicy=closed, implied by PrivateDevices=,
and ProtectClock='s DeviceAllow=char-rtc r: the lab cannot attach cgroup
programs, and the private /dev has no device the ACL would refuse);
PrivateTmp='s directories are a tmpfs here, not on disk; the seccomp
filters are built rule by rule as systemd builds them (its source), not
byte for byte; CapabilityBoundingSet= is not trimmed further by
ProtectClock= and the like (the unit's set has none of what they take).

Needs root and Debian's python3-seccomp (packaging/setup.sh installs it).
"""
from __future__ import annotations

import argparse
import ctypes
import errno
import grp
import os
import pwd
import socket
import stat
import subprocess
import sys

# Run by /usr/bin/python3 as a prefix, from any directory.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from systemd_unit import UNIT, service_settings  # noqa: E402

# What each emulated setting becomes here.
EMULATED = {
    "CapabilityBoundingSet": "prctl(PR_CAPBSET_DROP) of every other capability (or --caps)",
    "User": "setgroups (the user's groups, as systemd's initgroups), setresgid, setresuid, "
            "keeping the capabilities across (PR_SET_KEEPCAPS)",
    "Group": "setresgid",
    "AmbientCapabilities": "capset (inheritable, permitted, effective), then "
                           "PR_CAP_AMBIENT_RAISE (or --caps)",
    "NoNewPrivileges": "prctl(PR_SET_NO_NEW_PRIVS)",
    "PrivateMounts": "a mount namespace of its own, slave to the host's",
    "ProtectSystem": "strict: every mount but /dev, /proc and /sys remounted read-only",
    "ReadWritePaths": "bind-mounted read-write (mapped by --map)",
    "RuntimeDirectory": "/run/NAME writable, as ReadWritePaths (mapped by --map)",
    "ProtectHome": "tmpfs (read-only, empty) / inaccessible / read-only on /home, /root, "
                   "/run/user",
    "BindReadOnlyPaths": "read-only bind mounts",
    "PrivateTmp": "tmpfs on /tmp and /var/tmp",
    "PrivateDevices": "a /dev with null, zero, full, random, urandom, tty, pts, shm, mqueue, "
                      "log; seccomp denies @raw-io",
    "ProtectKernelTunables": "/proc/sys, /sys... read-only, /proc/kallsyms, /proc/kcore "
                             "inaccessible; seccomp denies _sysctl",
    "ProtectKernelModules": "/usr/lib/modules inaccessible; seccomp denies @module",
    "ProtectKernelLogs": "/proc/kmsg, /dev/kmsg inaccessible; seccomp denies syslog",
    "ProtectControlGroups": "/sys/fs/cgroup read-only",
    "ProtectClock": "seccomp denies @clock",
    "ProtectHostname": "a UTS namespace; seccomp denies sethostname, setdomainname",
    "ProtectProc": "a procfs of its own with hidepid=",
    "ProcSubset": "a procfs of its own with subset=",
    "LockPersonality": "seccomp denies personality() but for the current one",
    "RestrictRealtime": "seccomp denies sched_setscheduler to realtime policies",
    "RestrictSUIDSGID": "seccomp denies setting S_ISUID/S_ISGID (chmod, open, mkdir, mknod)",
    "RestrictNamespaces": "seccomp denies unshare/clone/setns with namespace flags "
                          "(clone3: ENOSYS)",
    "MemoryDenyWriteExecute": "seccomp denies mmap W+X, mprotect/pkey_mprotect +X, "
                              "shmat SHM_EXEC",
    "SystemCallArchitectures": "native: every filter is for the native ABI only",
    "SystemCallFilter": "seccomp allow list, groups expanded by systemd-analyze",
    "SystemCallErrorNumber": "the filter's default action (else SIGSYS, kill)",
    "RestrictAddressFamilies": "seccomp: socket() of another family fails with EAFNOSUPPORT",
    "UMask": "umask()",
}

# Settings of the unit that this does not apply, and why that is safe.
NOT_EMULATED = {
    "RuntimeDirectoryMode": "the lab's directory has its own mode; nothing checks it",
    "RuntimeDirectoryPreserve": "the lab's directory lives as long as the lab",
}

# How systemd starts, stops, restarts and watches the service: the
# harness does that itself (PgvrrpdNode, Proc), and they confine nothing.
LIFECYCLE = {"Type", "TimeoutStartSec", "WatchdogSec", "ExecStartPre", "ExecStart",
             "ExecReload", "Restart", "RestartSec", "TimeoutStopSec", "KillMode"}


def uncovered(settings: dict[str, list[str]]) -> list[str]:
    """The unit's [Service] keys that are neither emulated, nor listed as
    not emulated, nor lifecycle."""
    return sorted(k for k in settings
                  if k not in EMULATED and k not in NOT_EMULATED and k not in LIFECYCLE)


def last(settings, key, default=None):
    values = settings.get(key)
    return values[-1] if values else default


def yes(settings, key) -> bool:
    return (last(settings, key, "no") or "no").lower() in ("yes", "true", "1", "on")


def words(settings, key) -> list[str]:
    """A list setting: every assignment's words; an empty one resets."""
    out: list[str] = []
    for value in settings.get(key, []):
        out = [] if not value.strip() else out + value.split()
    return out


# --------------------------------------------------------------------------
# libc

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                       ctypes.c_char_p]
libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
libc.personality.argtypes = [ctypes.c_ulong]
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC = 32, 1024, 2048, 4096, 16384
MS_SLAVE, MS_RELATIME, MS_STRICTATIME = 1 << 19, 1 << 21, 1 << 24
MNT_DETACH = 2
CLONE_NEWNS, CLONE_NEWUTS = 0x00020000, 0x04000000
PR_SET_NO_NEW_PRIVS = 38
PR_SET_KEEPCAPS, PR_CAPBSET_DROP, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE = 8, 24, 47, 2
LINUX_CAPABILITY_VERSION_3 = 0x20080522
PER_QUERY = 0xffffffff
API_FILE_SYSTEMS = ("/dev", "/proc", "/sys")


def refuse(message: str) -> None:
    """The unit asks for what this cannot emulate (or the lab for what it
    cannot do): exit 2, before anything runs."""
    print(message, file=sys.stderr, flush=True)
    sys.exit(2)


def _check(rc: int, what: str) -> None:
    if rc != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")


def mount(source, target, fstype=None, flags=0, data=None) -> None:
    enc = (lambda s: s.encode() if isinstance(s, str) else s)
    _check(libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)),
           f"mount {source} on {target} ({fstype or ''} {flags:#x} {data or ''})")


def mount_flags(target: str) -> int:
    """The per-mount flags of the mount at `target`, as mount(2) takes them."""
    names = {"ro": MS_RDONLY, "nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC,
             "noatime": MS_NOATIME, "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME,
             "strictatime": MS_STRICTATIME}
    flags = 0
    for point, options in mounts():
        if point == target:
            flags = 0
            for o in options.split(","):
                flags |= names.get(o, 0)
    return flags


def mounts() -> list[tuple[str, str]]:
    """(mount point, per-mount options) of this namespace, in mount order."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            point = fields[4].encode().decode("unicode_escape")
            out.append((point, fields[5]))
    return out


def remount(target: str, readonly: bool) -> None:
    """Changes only the read-only flag of the mount at `target`."""
    flags = mount_flags(target) & ~MS_RDONLY
    mount(None, target, None, MS_REMOUNT | MS_BIND | flags | (MS_RDONLY if readonly else 0))


def under(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip("/") + "/")


def readonly_recursive(top: str) -> None:
    """Every mount at or below `top` read-only."""
    for point, options in mounts():
        if under(point, top) and "ro" not in options.split(","):
            try:
                remount(point, True)
            except OSError as e:
                # A mount hidden under another one cannot be reached, and
                # is not reachable by the sandboxed processes either.
                if e.errno not in (errno.ENOENT, errno.EINVAL, errno.EACCES):
                    raise


def bind(source: str, target: str, readonly: bool, recursive: bool = False) -> None:
    """`source` on `target`; read-only or writable, with every mount below
    it when recursive."""
    mount(source, target, None, MS_BIND | (MS_REC if recursive else 0))
    if recursive and readonly:
        readonly_recursive(target)
    elif recursive:
        for point, options in mounts():
            if under(point, target) and "ro" in options.split(","):
                remount(point, False)
    else:
        remount(target, readonly)


def fd_path(fd: int) -> str:
    return f"/proc/self/fd/{fd}"


def make_mount_point(target: str, directory: bool) -> None:
    """A directory or an empty file at `target`, to mount on, unless there
    is one (a path under a tmpfs of the sandbox is not there yet)."""
    if os.path.lexists(target):
        return
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if directory:
        os.mkdir(target)
    else:
        open(target, "a").close()


# --------------------------------------------------------------------------
# mounts

class Sandbox:
    def __init__(self, settings: dict[str, list[str]], mapping: dict[str, str]):
        self.s = settings
        self.mapping = mapping
        # Sources opened before anything covers them (the lab's temp dir
        # under the private /tmp, /dev's nodes under the new /dev).
        self.fds: dict[str, int] = {}

    def hold(self, path: str) -> int:
        if path not in self.fds:
            self.fds[path] = os.open(path, os.O_PATH | os.O_CLOEXEC)
        return self.fds[path]

    def bind_held(self, path: str, target: str, readonly: bool) -> None:
        """The held `path` (maybe hidden by now) on `target`, recursively."""
        fd = self.fds[path]
        make_mount_point(target, stat.S_ISDIR(os.fstat(fd).st_mode))
        bind(fd_path(fd), target, readonly, recursive=True)

    def writable_paths(self) -> list[str]:
        """ReadWritePaths= and RuntimeDirectory=, mapped, optional ones
        that do not exist left out, each once."""
        wanted = []
        for entry in words(self.s, "ReadWritePaths"):
            optional = entry.startswith("-")
            wanted.append((entry.lstrip("-+"), optional))
        for name in words(self.s, "RuntimeDirectory"):
            wanted.append((os.path.join("/run", name), False))
        out: list[str] = []
        for path, optional in wanted:
            real = self.mapping.get(path, path)
            if not os.path.exists(real):
                if optional:
                    continue
                refuse(f"unit_sandbox: {path} ({real}) does not exist: map it with "
                       "--map (the lab does not create it on the host)")
            if real not in out:
                out.append(real)
        return out

    def setup(self, visible: list[str]) -> None:
        s = self.s
        rw = self.writable_paths()
        binds = []
        for entry in words(s, "BindReadOnlyPaths"):
            optional = entry.startswith("-")
            source, _, rest = entry.lstrip("-").partition(":")
            target = rest.split(":")[0] or source
            if not os.path.exists(source):
                if optional:
                    continue
                refuse(f"unit_sandbox: BindReadOnlyPaths {source} does not exist")
            binds.append((source, target))
        private_devices = yes(s, "PrivateDevices")

        flags = CLONE_NEWNS | (CLONE_NEWUTS if yes(s, "ProtectHostname") else 0)
        _check(libc.unshare(flags), "unshare")
        mount(None, "/", None, MS_REC | MS_SLAVE)
        # Held in this namespace (a bind needs a source mount of its own
        # namespace), before anything covers them.
        for path in rw + visible + [source for source, _ in binds]:
            self.hold(path)
        if private_devices:
            for node in DEV_NODES + DEV_DIRS:
                if os.path.exists(node):
                    self.hold(node)

        protect_system = (last(s, "ProtectSystem", "no") or "no").lower()
        if protect_system == "strict":
            for point, options in mounts():
                if any(under(point, api) for api in API_FILE_SYSTEMS) or \
                        "ro" in options.split(","):
                    continue
                try:
                    remount(point, True)
                except OSError as e:
                    # A mount hidden under another one cannot be reached,
                    # by the sandboxed processes either.
                    if e.errno not in (errno.ENOENT, errno.EINVAL, errno.EACCES):
                        raise
        elif protect_system not in ("no", "false"):
            refuse(f"unit_sandbox: ProtectSystem={protect_system} is not emulated")

        if yes(s, "PrivateTmp"):
            for d in ("/tmp", "/var/tmp"):
                mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")

        home = (last(s, "ProtectHome", "no") or "no").lower()
        homes = [d for d in ("/home", "/root", "/run/user") if os.path.isdir(d)]
        if home == "tmpfs":
            for d in homes:
                mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")
        elif home == "read-only":
            for d in homes:
                bind(d, d, True, recursive=True)
        elif home in ("yes", "true"):
            self.inaccessible(homes)
        # Their mount points are made while the tmpfs on /tmp, /home and
        # /root are still writable: read-only binds (root's ~/.pgpass); the
        # writable paths, mapped, each shown at its own place, under the
        # private /tmp too; programs the lab runs from its own places (a
        # build under /root...).
        for source, target in binds:
            self.bind_held(source, target, True)
        for path in rw:
            self.bind_held(path, path, False)
        for path in visible:
            self.bind_held(path, path, True)
        if home == "tmpfs":
            for d in homes:
                remount(d, True)

        if private_devices:
            self.private_dev()

        hidepid = (last(s, "ProtectProc", "default") or "default").lower()
        subset = (last(s, "ProcSubset", "all") or "all").lower()
        if hidepid != "default" or subset != "all":
            options = [f"hidepid={hidepid}"] if hidepid != "default" else []
            options += [f"subset={subset}"] if subset != "all" else []
            mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, ",".join(options))

        hide = []
        if yes(s, "ProtectKernelTunables"):
            for p in KERNEL_TUNABLES:
                if os.path.exists(p):
                    bind(p, p, True, recursive=True)
            readonly_recursive("/sys")
            hide += ["/proc/kallsyms", "/proc/kcore"]
        if yes(s, "ProtectControlGroups"):
            readonly_recursive("/sys/fs/cgroup")
        if yes(s, "ProtectKernelModules"):
            hide += sorted({os.path.realpath(p) for p in ("/usr/lib/modules", "/lib/modules")})
        if yes(s, "ProtectKernelLogs"):
            hide += ["/proc/kmsg", "/dev/kmsg"]
        self.inaccessible([p for p in hide if os.path.exists(p)])

    def private_dev(self) -> None:
        """A new /dev as systemd's PrivateDevices= makes it: pseudo devices,
        the pty subsystem, shm, mqueue, hugepages, the journal's /dev/log;
        read-only and noexec."""
        mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_STRICTATIME, "mode=0755")
        for node in DEV_NODES:
            if node in self.fds:
                make_mount_point(node, False)
                bind(fd_path(self.fds[node]), node, False)
        for d in DEV_DIRS:
            if d in self.fds:
                os.makedirs(d, exist_ok=True)
                mount(fd_path(self.fds[d]), d, None, MS_BIND)
        os.symlink("pts/ptmx", "/dev/ptmx")
        os.symlink("/run/systemd/journal/dev-log", "/dev/log")
        for target, link in (("/proc/self/fd", "/dev/fd"), ("/proc/self/fd/0", "/dev/stdin"),
                             ("/proc/self/fd/1", "/dev/stdout"),
                             ("/proc/self/fd/2", "/dev/stderr")):
            os.symlink(target, link)
        if os.path.exists("/proc/kcore"):
            os.symlink("/proc/kcore", "/dev/core")
        remount("/dev", True)

    @staticmethod
    def inaccessible(paths: list[str]) -> None:
        """Each path covered by an empty node of mode 0000 (systemd's
        /run/systemd/inaccessible), made on a scratch tmpfs stacked on /tmp
        for the moment."""
        if not paths:
            return
        mount("sandbox-inaccessible", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700")
        try:
            os.mkdir("/tmp/dir", 0)
            os.close(os.open("/tmp/reg", os.O_CREAT | os.O_WRONLY, 0))
            os.chmod("/tmp/dir", 0)
            os.chmod("/tmp/reg", 0)
            for p in paths:
                node = "/tmp/dir" if stat.S_ISDIR(os.stat(p).st_mode) else "/tmp/reg"
                bind(node, p, True)
        finally:
            _check(libc.umount2(b"/tmp", MNT_DETACH), "umount the scratch tmpfs")


DEV_NODES = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
             "/dev/net/tun"]
DEV_DIRS = ["/dev/pts", "/dev/shm", "/dev/mqueue", "/dev/hugepages"]
KERNEL_TUNABLES = ["/proc/acpi", "/proc/apm", "/proc/asound", "/proc/bus", "/proc/fs",
                   "/proc/irq", "/proc/latency_stats", "/proc/mtrr", "/proc/scsi", "/proc/sys",
                   "/proc/sysrq-trigger", "/proc/timer_stats"]


# --------------------------------------------------------------------------
# seccomp

_groups: dict[str, list[str]] = {}


def syscall_group(name: str) -> list[str]:
    """The system calls of a group (@system-service...), nested groups
    expanded, as `systemd-analyze syscall-filter` lists them (one run
    lists every group)."""
    if not _groups:
        cp = subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True,
                            text=True, check=False)
        raw: dict[str, list[str]] = {}
        group = None
        for line in cp.stdout.splitlines():
            if line.startswith("@"):
                group = line.strip()
                raw[group] = []
            elif not line.strip() or not line[0].isspace():
                group = None  # a blank line, or the closing comments
            elif group and not line.strip().startswith("#"):
                raw[group].append(line.strip())

        def members(g: str) -> list[str]:
            if g not in raw:
                refuse(f"unit_sandbox: systemd-analyze syscall-filter lists no {g}: "
                       f"{cp.stderr.strip()}")
            out: list[str] = []
            for item in raw[g]:
                out += members(item) if item.startswith("@") else [item]
            return out
        _groups.update({g: members(g) for g in raw})
    if name not in _groups:
        refuse(f"unit_sandbox: no system call group {name}")
    return _groups[name]


def expand(entry: str) -> list[str]:
    name = entry.split(":")[0]
    return syscall_group(name) if name.startswith("@") else [name]


def syscall_filter(settings) -> tuple[bool, set[str]]:
    """(allow list?, the set) of SystemCallFilter= with systemd's rules: the
    first assignment decides; an allow list starts from @default; later
    assignments of the other kind take their calls out of the set."""
    allow_list = None
    calls: set[str] = set()
    for value in settings.get("SystemCallFilter", []):
        value = value.strip()
        if not value:
            allow_list, calls = None, set()
            continue
        invert = value.startswith("~")
        entries = value.lstrip("~").split()
        if allow_list is None:
            allow_list = not invert
            if allow_list:
                calls |= set(syscall_group("@default"))
        members = {c for e in entries for c in expand(e)}
        if invert == (not allow_list):
            calls |= members
        else:
            calls -= members
    return bool(allow_list), calls


def load_filters(settings) -> None:
    import seccomp  # python3-seccomp; only where the sandbox runs
    from seccomp import ALLOW, EQ, ERRNO, GT, KILL_PROCESS, LT, MASKED_EQ, NE, Arg, Attr

    def new(default=ALLOW):
        f = seccomp.SyscallFilter(defaction=default)
        # Foreign ABIs (i386 on x86_64, x32) are not in any filter: killed.
        f.set_attr(Attr.ACT_BADARCH, KILL_PROCESS)
        # NoNewPrivileges= is applied on its own, as systemd does.
        f.set_attr(Attr.CTL_NNP, 0)
        return f

    def add(f, action, name, *args) -> None:
        # As systemd: a call this architecture does not have is skipped.
        try:
            if seccomp.resolve_syscall(seccomp.Arch.NATIVE, name) < 0:
                return
            f.add_rule_exactly(action, name, *args)
        except (ValueError, RuntimeError, OSError):
            pass

    def deny(names, err=errno.EPERM) -> None:
        f = new()
        for n in names:
            add(f, ERRNO(err), n)
        f.load()

    archs = words(settings, "SystemCallArchitectures")
    if archs and archs != ["native"]:
        refuse(f"unit_sandbox: SystemCallArchitectures={archs} is not emulated")

    families = words(settings, "RestrictAddressFamilies")
    if families:
        if families[0].startswith("~"):
            refuse("unit_sandbox: a deny list in RestrictAddressFamilies= is not "
                   "emulated")
        allowed = sorted(getattr(socket, name) for name in families)
        f = new()
        af_max = 46  # AF_MAX of Linux 6.x
        add(f, ERRNO(errno.EAFNOSUPPORT), "socket", Arg(0, LT, allowed[0]))
        add(f, ERRNO(errno.EAFNOSUPPORT), "socket", Arg(0, GT, allowed[-1]))
        for af in range(1, af_max):
            if allowed[0] < af < allowed[-1] and af not in allowed:
                add(f, ERRNO(errno.EAFNOSUPPORT), "socket", Arg(0, EQ, af))
        f.load()

    if yes(settings, "MemoryDenyWriteExecute"):
        prot_write, prot_exec, shm_exec = 2, 4, 0o100000
        f = new()
        add(f, ERRNO(errno.EPERM), "mmap",
            Arg(2, MASKED_EQ, prot_write | prot_exec, prot_write | prot_exec))
        add(f, ERRNO(errno.EPERM), "mprotect", Arg(2, MASKED_EQ, prot_exec, prot_exec))
        add(f, ERRNO(errno.EPERM), "pkey_mprotect", Arg(2, MASKED_EQ, prot_exec, prot_exec))
        add(f, ERRNO(errno.EPERM), "shmat", Arg(2, MASKED_EQ, shm_exec, shm_exec))
        f.load()

    if yes(settings, "RestrictRealtime"):
        # SCHED_OTHER, SCHED_BATCH and SCHED_IDLE (5) stay allowed.
        f = new()
        for policy in (1, 2, 4):
            add(f, ERRNO(errno.EPERM), "sched_setscheduler", Arg(1, EQ, policy))
        add(f, ERRNO(errno.EPERM), "sched_setscheduler", Arg(1, GT, 5))
        f.load()

    if yes(settings, "RestrictSUIDSGID"):
        f = new()
        o_creat = os.O_CREAT
        for m in (stat.S_ISUID, stat.S_ISGID):
            for name, arg in (("chmod", 1), ("fchmod", 1), ("fchmodat", 2), ("mkdir", 1),
                              ("mkdirat", 2), ("mknod", 1), ("mknodat", 2), ("creat", 1)):
                add(f, ERRNO(errno.EPERM), name, Arg(arg, MASKED_EQ, m, m))
            add(f, ERRNO(errno.EPERM), "open", Arg(1, MASKED_EQ, o_creat, o_creat),
                Arg(2, MASKED_EQ, m, m))
            add(f, ERRNO(errno.EPERM), "openat", Arg(2, MASKED_EQ, o_creat, o_creat),
                Arg(3, MASKED_EQ, m, m))
        # openat2's mode is behind a pointer.
        add(f, ERRNO(errno.ENOSYS), "openat2")
        f.load()

    restrict = (last(settings, "RestrictNamespaces", "no") or "no").lower()
    if restrict in ("yes", "true"):
        f = new()
        add(f, ERRNO(errno.EPERM), "setns")
        for flag in (0x02000000, 0x08000000, 0x40000000, 0x00020000, 0x20000000, 0x10000000,
                     0x04000000):  # cgroup ipc net mnt pid user uts
            add(f, ERRNO(errno.EPERM), "unshare", Arg(0, MASKED_EQ, flag, flag))
            add(f, ERRNO(errno.EPERM), "clone", Arg(0, MASKED_EQ, flag, flag))
        # clone3's flags are behind a pointer: ENOSYS, and glibc uses clone.
        add(f, ERRNO(errno.ENOSYS), "clone3")
        f.load()
    elif restrict not in ("no", "false"):
        refuse(f"unit_sandbox: RestrictNamespaces={restrict} is not emulated")

    if yes(settings, "ProtectHostname"):
        deny(["sethostname", "setdomainname"])
    if yes(settings, "ProtectClock"):
        deny(syscall_group("@clock"))
    if yes(settings, "ProtectKernelLogs"):
        deny(["syslog"])
    if yes(settings, "ProtectKernelModules"):
        deny(syscall_group("@module"))
    if yes(settings, "ProtectKernelTunables"):
        deny(["_sysctl"])
    if yes(settings, "PrivateDevices"):
        deny(syscall_group("@raw-io"))
    if yes(settings, "LockPersonality"):
        current = libc.personality(PER_QUERY)
        f = new()
        add(f, ERRNO(errno.EPERM), "personality", Arg(0, NE, current))
        f.load()

    # Last, as systemd loads it: the others need no room in it.
    if settings.get("SystemCallFilter"):
        allow_list, calls = syscall_filter(settings)
        number = (last(settings, "SystemCallErrorNumber", "") or "").strip()
        if number and number != "kill":
            negative = ERRNO(getattr(errno, number) if not number.isdigit() else int(number))
        else:
            negative = KILL_PROCESS
        if allow_list:
            f = new(negative)
            for name in sorted(calls):
                add(f, ALLOW, name)
        else:
            f = new(ALLOW)
            for name in sorted(calls):
                add(f, negative, name)
        f.load()


# --------------------------------------------------------------------------
# Credentials

class CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def cap_number(name: str) -> int:
    """CAP_NET_RAW -> 13, from the kernel headers' numbering."""
    return CAP_NUMBERS[name.upper()]


# linux/capability.h, the ones a unit here may name.
CAP_NUMBERS = {"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_KILL": 5, "CAP_SETGID": 6,
               "CAP_SETUID": 7, "CAP_SETPCAP": 8, "CAP_NET_BIND_SERVICE": 10,
               "CAP_NET_BROADCAST": 11, "CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13,
               "CAP_SYS_ADMIN": 21}


def become(settings, caps: list[str]) -> None:
    """The bounding set; then, with User=, that user (and Group=) holding
    `caps` as ambient capabilities, as systemd gives AmbientCapabilities=
    (--caps stands for both sets). Without User=, root: its capabilities at
    exec are the bounding set's."""
    keep = {cap_number(c) for c in caps}
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last_cap = int(f.read())
    for number in range(last_cap + 1):
        if number not in keep:
            _check(libc.prctl(PR_CAPBSET_DROP, number, 0, 0, 0), f"PR_CAPBSET_DROP {number}")
    user = last(settings, "User")
    if not user:
        return
    pw = pwd.getpwnam(user)
    group = last(settings, "Group")
    gid = grp.getgrnam(group).gr_gid if group else pw.pw_gid
    ambient = [c for c in words(settings, "AmbientCapabilities") if c in caps] \
        if caps == words(settings, "CapabilityBoundingSet") else caps
    _check(libc.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), "PR_SET_KEEPCAPS")
    os.setgroups(os.getgrouplist(user, gid))
    os.setresgid(gid, gid, gid)
    os.setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid)
    mask = sum(1 << cap_number(c) for c in ambient)
    header = CapHeader(LINUX_CAPABILITY_VERSION_3, 0)
    data = (CapData * 2)(CapData(mask, mask, mask), CapData(0, 0, 0))
    _check(libc.capset(ctypes.byref(header), data), "capset")
    for c in ambient:
        _check(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap_number(c), 0, 0),
               f"PR_CAP_AMBIENT_RAISE {c}")


# --------------------------------------------------------------------------

def hidden(path: str) -> bool:
    return any(under(path, top) for top in ("/tmp", "/var/tmp", "/home", "/root", "/run/user"))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--unit", default=UNIT)
    parser.add_argument("--map", action="append", default=[], metavar="UNIT_PATH=LAB_PATH")
    parser.add_argument("--caps", help="comma-separated, instead of CapabilityBoundingSet")
    parser.add_argument("command", nargs="+")
    args = parser.parse_args(argv)
    settings = service_settings(args.unit)
    unknown = uncovered(settings)
    if unknown:
        refuse(f"unit_sandbox: {args.unit} has settings this neither emulates nor "
               f"lists as safe not to: {', '.join(unknown)}")
    mapping = dict(m.split("=", 1) for m in args.map)
    caps = ([c for c in args.caps.split(",") if c] if args.caps is not None
            else words(settings, "CapabilityBoundingSet"))
    # The program itself, where the sandbox would hide it (a build under
    # /root): shown read-only, as /usr/sbin/pgvrrpd would be.
    program = os.path.realpath(args.command[0])
    visible = [os.path.dirname(program)] if os.path.isabs(args.command[0]) and \
        hidden(program) else []

    Sandbox(settings, mapping).setup(visible)
    umask = last(settings, "UMask")
    if umask:
        os.umask(int(umask, 8))
    become(settings, caps)
    if yes(settings, "NoNewPrivileges"):
        _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")
    load_filters(settings)
    os.execv(args.command[0], args.command)


if __name__ == "__main__":
    main(sys.argv[1:])
