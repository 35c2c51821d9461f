"""Packet capture on a netlab bridge (tshark/dumpcap in the switch
namespace) and reading the capture back with tshark.

    with Capture(lab) as cap: ...            # tshark on br0, VRRP only
    count, problems = cap.decode_check()     # malformed / expert / checksum
    rows = read_fields(cap.pcap, ["frame.time_epoch", "vrrp.prio"])

tshark facts (4.0): VRRP fields vrrp.version, vrrp.prio, vrrp.checksum,
vrrp.checksum.status (-T fields prints 1 = Good, 0 = Bad; display filters take
"Good"/"Bad"), vrrp.checksum_bad.expert; _ws.malformed; _ws.expert.severity
(Warning = 0x600000, Error = 0x800000; a bad VRRP checksum is a Warning).
Preference vrrp.v3_checksum_as_in_v2 (default FALSE = RFC 5798 pseudo-header
checksum for VRRPv3 over IPv4; TRUE = checksum over the VRRP message only).
"""
from __future__ import annotations

import shutil
import signal
import time
from typing import Sequence

from netlab import BRIDGE, Lab
from processes import LabError, Proc, run, wait_until

TSHARK = shutil.which("tshark") or "/usr/bin/tshark"

VRRP_CAPTURE_FILTER = "ip proto 112 or ip6 proto 112"
# What tshark -T fields prints for these (numbers), found by experiment.
_CHECKSUM_STATUS = {"0": "Bad", "1": "Good", "2": "Unverified", "3": "Not present",
                    "4": "Illegal"}
_SEVERITY = {"1048576": "Comment", "2097152": "Chat", "4194304": "Note",
             "6291456": "Warning", "8388608": "Error"}


def decode_check(pcap: str, prefs: dict[str, str] | None = None,
                 display_filter: str = "vrrp") -> tuple[int, list[str]]:
    """Decode pcap with tshark. Returns (number of frames matching
    display_filter, problems), where problems lists every frame that is
    malformed, carries expert info of Warning/Error severity, or has a VRRP
    checksum status other than Good.

    prefs: tshark preferences, e.g. {"vrrp.v3_checksum_as_in_v2": "TRUE"} to
    check VRRPv3/IPv4 checksums computed without the pseudo-header (default
    FALSE = RFC 5798 form).
    """
    opts: list[str] = []
    for k, v in (prefs or {}).items():
        opts += ["-o", f"{k}:{v}"]
    base = [TSHARK, "-n", "-r", pcap] + opts
    cp = run(base + ["-Y", display_filter, "-T", "fields", "-e", "frame.number"],
              timeout=120)
    count = len([line for line in cp.stdout.splitlines() if line.strip()])
    fields = ["frame.number", "_ws.col.Info", "vrrp.version", "vrrp.checksum",
              "vrrp.checksum.status", "_ws.malformed", "_ws.expert.severity",
              "_ws.expert.message"]
    cp = run(base + ["-Y", "_ws.malformed or _ws.expert.severity >= \"Warning\" "
                            "or vrrp.checksum.status != \"Good\"",
                      "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
                      "-E", "aggregator=|"] + sum((["-e", f] for f in fields), []),
              timeout=120)
    problems = []
    for line in cp.stdout.splitlines():
        if not line.strip():
            continue
        cols = dict(zip(fields, line.split("\t")))
        sev = "|".join(_SEVERITY.get(x, x) for x in cols.get("_ws.expert.severity", "").split("|") if x)
        status = cols.get("vrrp.checksum.status", "")
        status = "|".join(_CHECKSUM_STATUS.get(x, x) for x in status.split("|") if x)
        problems.append(
            f"frame {cols['frame.number']}: {cols.get('_ws.col.Info', '')!r}"
            f" vrrp.version={cols.get('vrrp.version') or '-'}"
            f" checksum={cols.get('vrrp.checksum') or '-'} ({status or 'no status'})"
            + (" MALFORMED" if cols.get("_ws.malformed") else "")
            + (f" expert[{sev}]: {cols.get('_ws.expert.message')}" if sev else ""))
    return count, problems


def read_fields(pcap: str, fields: Sequence[str], display_filter: str = "vrrp",
                prefs: dict[str, str] | None = None) -> list[dict[str, str]]:
    """One dict per frame matching display_filter, {field: value} (multiple
    occurrences joined with '|'), e.g.
    read_fields(pcap, ["frame.time_epoch", "ip.src", "vrrp.prio"])."""
    opts = sum((["-o", f"{k}:{v}"] for k, v in (prefs or {}).items()), [])
    cp = run([TSHARK, "-n", "-r", pcap, *opts, "-Y", display_filter, "-T", "fields",
               "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|"]
              + sum((["-e", f] for f in fields), []), timeout=120)
    return [dict(zip(fields, line.split("\t"))) for line in cp.stdout.splitlines()
            if line.strip()]


class Capture:
    """tshark on br0 in the switch namespace, writing a pcap in the lab temp dir.

        with Capture(lab) as cap:
            ...
        count, problems = cap.decode_check()
    """

    def __init__(self, lab: Lab, capture_filter: str = VRRP_CAPTURE_FILTER,
                 iface: str = BRIDGE, name: str = "capture"):
        self.lab, self.filter, self.iface = lab, capture_filter, iface
        self.pcap = lab.path(f"{name}.pcapng")
        self.name = name
        self.proc: Proc | None = None

    def __repr__(self):
        return f"Capture({self.pcap})"

    def start(self, timeout: float = 15) -> "Capture":
        self.proc = self.lab.switch.spawn(
            [TSHARK, "-n", "-q", "-i", self.iface, "-f", self.filter, "-w", self.pcap],
            f"tshark-{self.name}")
        self.lab.stoppables.append(self)

        def started():
            if not self.proc.alive():
                raise LabError(f"tshark exited with {self.proc.returncode} before "
                               f"capturing; log:\n{self.proc.log_tail()}")
            return "Capturing on" in self.proc.log_text()
        wait_until(started, timeout, step=0.05, what="tshark to report 'Capturing on'")
        return self

    def stop(self) -> None:
        """SIGINT tshark (it flushes and stops dumpcap), SIGKILL if it hangs."""
        if self.proc and self.proc.alive():
            # dumpcap reads the kernel's packet ring with a 250 ms timeout
            # (TPACKET_V3 blocks are handed over when full or that old), and
            # what is still in an open block when it stops is lost: a
            # priority 0 advert sent 0.2 s before stop() went missing once.
            time.sleep(0.6)
            self.proc.stop(timeout=10, sig=signal.SIGINT)

    def decode_check(self, prefs: dict[str, str] | None = None,
                     display_filter: str = "vrrp") -> tuple[int, list[str]]:
        self.stop()
        return decode_check(self.pcap, prefs, display_filter)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False
