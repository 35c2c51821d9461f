"""addrwatch: AddressWatcher, millisecond timestamps of an address appearing
on / disappearing from a netlab host, from rtnetlink events received inside
the host's namespace (no polling).

    w = AddressWatcher(n2, "198.51.100.100")   # subscribes, then reads the state
    t = w.wait_present(5)                       # time.monotonic() of appearance
    w.wait_absent(5) ; w.events                 # [(time, 'present'|'absent')]

Registered with the host's lab, stopped at teardown.
"""
from __future__ import annotations

import ctypes
import ipaddress
import os
import socket
import struct
import threading
import time

from netlab import Host, bare
from processes import LabError

_CLONE_NEWNET = 0x40000000
_RTM_NEWADDR, _RTM_DELADDR = 20, 21
_RTMGRP_IPV4_IFADDR, _RTMGRP_IPV6_IFADDR = 0x10, 0x100
_IFA_ADDRESS, _IFA_LOCAL, _IFA_FLAGS = 1, 2, 8
_IFA_F_DADFAILED, _IFA_F_TENTATIVE = 0x08, 0x40
_libc = ctypes.CDLL(None, use_errno=True)


def _netlink_socket_in(ns: str) -> socket.socket:
    """An rtnetlink socket subscribed to address events, created inside ns.
    setns() only moves the calling thread, so do it in a throwaway thread."""
    result: dict = {}

    def worker():
        try:
            with open(f"/run/netns/{ns}") as f:
                if _libc.setns(f.fileno(), _CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"setns({ns}): {os.strerror(err)}")
            s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            s.bind((0, _RTMGRP_IPV4_IFADDR | _RTMGRP_IPV6_IFADDR))
            result["sock"] = s
        except BaseException as e:
            result["error"] = e
    t = threading.Thread(target=worker, name=f"setns-{ns}")
    t.start()
    t.join()
    if "error" in result:
        raise result["error"]
    return result["sock"]


class AddressWatcher:
    """Records time.monotonic() whenever `addr` appears on / disappears from a
    host (any interface). Appearing means present and not tentative/dadfailed.

    Subscribes to rtnetlink inside the host's namespace *before* reading the
    current state, so no event between start and the first wait is lost.
    `events` is a list of (monotonic time, 'present'|'absent'). If the
    kernel drops events (ENOBUFS: a flood of address messages overran the
    socket), the watcher stops and says so in `failure`; a wait that was
    not satisfied before then fails at once, naming it.
    """

    def __init__(self, host: Host, addr: str):
        self.host, self.addr = host, bare(addr)
        self.events: list[tuple[float, str]] = []
        self.raw: list[tuple[float, str, str, int]] = []  # (t, new|del, addr, flags)
        self._cond = threading.Condition()
        self._stop = False
        self.failure: str | None = None
        self._sock = _netlink_socket_in(host.ns)
        self._sock.settimeout(0.2)
        self.started = time.monotonic()
        self.present = host.has_address(str(self.addr))
        self.since = self.started
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name=f"watch-{host.short}-{self.addr}")
        self._thread.start()
        host.lab.stoppables.append(self)

    def __repr__(self):
        return f"AddressWatcher({self.host.short}, {self.addr})"

    def _loop(self):
        while not self._stop:
            try:
                data = self._sock.recv(1 << 16)
            except socket.timeout:
                continue
            except OSError as e:
                if not self._stop:
                    with self._cond:
                        self.failure = (f"netlink receive failed after {len(self.raw)} address "
                                        f"events in {time.monotonic() - self.started:.3f} s: {e}")
                        self._cond.notify_all()
                break
            now = time.monotonic()
            for kind, a, flags in self._parse(data):
                self.raw.append((now, kind, str(a), flags))
                if a != self.addr:
                    continue
                usable = kind == "new" and not flags & (_IFA_F_TENTATIVE | _IFA_F_DADFAILED)
                with self._cond:
                    if usable != self.present:
                        self.present, self.since = usable, now
                        self.events.append((now, "present" if usable else "absent"))
                        self._cond.notify_all()

    @staticmethod
    def _parse(data: bytes):
        off = 0
        while off + 16 <= len(data):
            length, mtype, _, _, _ = struct.unpack_from("=IHHII", data, off)
            if length < 16:
                break
            if mtype in (_RTM_NEWADDR, _RTM_DELADDR):
                family, _plen, flags, _scope, _idx = struct.unpack_from("=BBBBI", data, off + 16)
                addr = local = None
                a = off + 16 + 8
                end = off + length
                while a + 4 <= end:
                    alen, atype = struct.unpack_from("=HH", data, a)
                    if alen < 4:
                        break
                    payload = data[a + 4:a + alen]
                    if atype in (_IFA_ADDRESS, _IFA_LOCAL) and family in (socket.AF_INET,
                                                                         socket.AF_INET6):
                        ip = ipaddress.ip_address(payload)
                        if atype == _IFA_LOCAL:
                            local = ip
                        else:
                            addr = ip
                    elif atype == _IFA_FLAGS and alen >= 8:
                        flags = struct.unpack_from("=I", payload)[0]
                    a += (alen + 3) & ~3
                ip = local or addr
                if ip is not None:
                    yield ("new" if mtype == _RTM_NEWADDR else "del"), ip, flags
            off += (length + 3) & ~3

    def _wait(self, want: bool, timeout: float) -> float:
        with self._cond:
            self._cond.wait_for(lambda: self.present == want or self.failure, timeout)
            if self.present == want:
                return self.since
        state = "present" if want else "absent"
        raise LabError(
            f"{self.addr} was expected to be {state} on {self.host.short} ({self.host.ns}) "
            f"within {timeout:g} s but is not"
            + (f" (the watcher stopped: {self.failure})" if self.failure else "")
            + "; state changes seen (s since watch start): "
            f"{[(round(t - self.started, 3), k) for t, k in self.events]}; "
            f"addresses now: {[a['local'] for a in self.host.addresses()]}")

    def wait_present(self, timeout: float) -> float:
        """Wait until addr is present; return the monotonic time it appeared
        (the watcher's start time if it was already there then)."""
        return self._wait(True, timeout)

    def wait_absent(self, timeout: float) -> float:
        """Wait until addr is absent; return the monotonic time it disappeared."""
        return self._wait(False, timeout)

    def stop(self):
        self._stop = True
        self._thread.join(2)
        self._sock.close()
