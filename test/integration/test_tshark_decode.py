#!/usr/bin/env python3
"""tshark decodes pgvrrpd's adverts cleanly.

Two pgvrrpd nodes (n1 priority 150, n2 priority 100, two VIPs each), one
capture on the lab bridge per case, across election, a SIGTERM of the master
(priority 0 advert), n2's takeover and n2's own SIGTERM:

  v3 IPv4, v3_checksum_pseudo_header = true   (RFC 5798 checksum; tshark's
        vrrp.v3_checksum_as_in_v2:TRUE must call every frame bad)
  v3 IPv4, v3_checksum_pseudo_header = false  (checked with
        vrrp.v3_checksum_as_in_v2:TRUE; without it every frame must be bad)
  v3 IPv6
  v2 IPv4 with auth_pass

Each capture must hold adverts from both nodes, none malformed / with expert
warnings / bad checksums, and the decoded fields must be what the ini says:
version, type, vrid, priorities (incl. 0), interval, TTL / hop limit 255,
destination 224.0.0.18 / ff02::12, address count and list, auth type/string.
"""
import signal
import time

from capture import Capture, decode_check, read_fields
from netlab import Lab
from pgvrrpd_node import PgvrrpdNode, master_down_interval
from processes import LabError, log
from runner import run_test

HIGH, LOW = 150, 100
AS_IN_V2 = {"vrrp.v3_checksum_as_in_v2": "TRUE"}

CASES = [
    # name, family, version, interval, extra keys, prefs for a clean decode,
    # prefs under which every frame must be flagged bad (None: no such check)
    ("v3_ipv4_pseudo", 4, 3, 0.1, {"v3_checksum_pseudo_header": True}, {}, AS_IN_V2),
    ("v3_ipv4_nopseudo", 4, 3, 0.1, {"v3_checksum_pseudo_header": False}, AS_IN_V2, {}),
    ("v3_ipv6", 6, 3, 0.1, {}, {}, None),
    ("v2_auth", 4, 2, 1, {"auth_pass": "pgpair"}, {}, None),
]

FIELDS = ["frame.number", "eth.src", "ip.src", "ip.dst", "ip.ttl", "ipv6.src", "ipv6.dst",
          "ipv6.hlim", "vrrp.version", "vrrp.type", "vrrp.virt_rtr_id", "vrrp.prio",
          "vrrp.addr_count", "vrrp.adver_int", "vrrp.short_adver_int", "vrrp.auth_type",
          "vrrp.auth_string", "vrrp.ip_addr", "vrrp.ipv6_addr", "vrrp.checksum.status"]


def expect(cond, what, got):
    if not cond:
        raise LabError(f"expected {what}; got {got}")


def run_case(lab, n1, n2, idx, name, family, version, interval, extra, prefs, bad_prefs):
    v4 = family == 4
    vrid = 61 + idx
    if v4:
        vips = [f"198.51.100.{100 + idx}/24", f"198.51.100.{150 + idx}/32"]
    else:
        vips = [f"2001:db8:100::{100 + idx}/64", f"2001:db8:100::{150 + idx}/128"]
    keys = {"version": version, "advert_interval": interval, "virtual_ip": vips, **extra}
    log(f"--- {name}: vrid {vrid}, {keys}")
    cap = Capture(lab, name=name).start()
    a = PgvrrpdNode(n1, name=name, vrid=vrid, priority=HIGH, **keys)
    b = PgvrrpdNode(n2, name=name, vrid=vrid, priority=LOW, **keys)
    a.start()
    a.wait_state("MASTER", master_down_interval(HIGH, interval) + 2)
    b.start()
    b.wait_state("BACKUP", 2)
    time.sleep(2.5 * interval)
    a.kill(signal.SIGTERM)                     # resign: priority 0 advert
    b.wait_state("MASTER", master_down_interval(LOW, interval) + 1)
    expect("resigned (priority 0 advert)" in b.transitions()[-1][2],
           "n2 to take over because n1 resigned", b.transitions())
    expect(a.proc.wait(5) == 0, "n1 to exit 0 after SIGTERM", a.proc.returncode)
    time.sleep(2.5 * interval)
    expect(b.stop() == 0, "n2 to exit 0 after SIGTERM", b.proc.returncode)
    drops = a.drops() + b.drops()
    expect(not drops, "no dropped adverts between the two pgvrrpd nodes", drops)
    cap.stop()

    # -- clean decode
    count, problems = decode_check(cap.pcap, prefs)
    expect(count > 0 and not problems,
           f"VRRP frames, none malformed / with warnings / bad checksum (prefs {prefs})",
           f"{count} frames, problems: {problems[:10]}")
    # -- the other checksum form must be flagged, so the check above can fail
    if bad_prefs is not None:
        bad_count, bad = decode_check(cap.pcap, bad_prefs)
        expect(bad_count == count and len(bad) == count and all("(Bad)" in p for p in bad),
               f"every one of the {count} frames to have a bad checksum under prefs "
               f"{bad_prefs or 'default'}",
               f"{len(bad)} of {bad_count} flagged: {bad[:3]}")

    # -- fields
    frames = read_fields(cap.pcap, FIELDS, prefs=prefs)
    expect(len(frames) == count, f"read_fields to return all {count} frames", len(frames))
    src_f = "ip.src" if v4 else "ipv6.src"
    srcs = {(n1.ipv4.split("/")[0] if v4 else n1.link_local): "n1",
            (n2.ipv4.split("/")[0] if v4 else n2.link_local): "n2"}
    prios = {"n1": set(), "n2": set()}
    want_vips = sorted(v.split("/")[0] for v in vips)
    for f in frames:
        who = srcs.get(f[src_f])
        expect(who is not None, f"frames only from n1/n2 {sorted(srcs)}", f)
        prios[who].add(int(f["vrrp.prio"]))
        problems = []

        def check(field, want):
            if f[field] != want:
                problems.append(f"{field}={f[field]!r} (want {want!r})")
        check("vrrp.version", str(version))
        check("vrrp.type", "1")
        check("vrrp.virt_rtr_id", str(vrid))
        check("vrrp.addr_count", str(len(vips)))
        check("vrrp.checksum.status", "1")
        # pgvrrpd sends from the interface's own MAC, not 00:00:5e:00:01:VRID
        # (announce_linux.h), as keepalived does without use_vmac.
        check("eth.src", (n1 if who == "n1" else n2).mac)
        if v4:
            check("ip.ttl", "255")
            check("ip.dst", "224.0.0.18")
            got_vips = f["vrrp.ip_addr"].split("|") if f["vrrp.ip_addr"] else []
        else:
            check("ipv6.hlim", "255")
            check("ipv6.dst", "ff02::12")
            got_vips = f["vrrp.ipv6_addr"].split("|") if f["vrrp.ipv6_addr"] else []
        if sorted(got_vips) != want_vips:
            problems.append(f"addresses {got_vips} (want {want_vips})")
        if version == 3:
            check("vrrp.short_adver_int", str(round(interval * 100)))
        else:
            check("vrrp.adver_int", str(int(interval)))
            check("vrrp.auth_type", "1" if "auth_pass" in extra else "0")
            if "auth_pass" in extra:
                check("vrrp.auth_string", extra["auth_pass"])
        expect(not problems, f"frame {f['frame.number']} from {who} to match the config",
               "; ".join(problems))
    expect(prios == {"n1": {HIGH, 0}, "n2": {LOW, 0}},
           f"n1 to advertise priorities {{{HIGH}, 0}} and n2 {{{LOW}, 0}}", prios)
    per_node = {w: sum(1 for f in frames if srcs[f[src_f]] == w) for w in ("n1", "n2")}
    log(f"{name}: {count} frames {per_node}, priorities {prios}, addresses {want_vips}")
    return count


def main():
    t0 = time.monotonic()
    with Lab("tshark_decode") as lab:
        n1 = lab.add_host("n1", ipv4="198.51.100.11/24", ipv6="2001:db8:100::11/64")
        n2 = lab.add_host("n2", ipv4="198.51.100.12/24", ipv6="2001:db8:100::12/64")
        counts = {case[0]: run_case(lab, n1, n2, i, *case) for i, case in enumerate(CASES)}
    print("RESULT tshark_decode " + " ".join(f"{k}_frames={v}" for k, v in counts.items())
          + f" total_s={time.monotonic() - t0:.1f}", flush=True)


run_test(main, timeout=200)
