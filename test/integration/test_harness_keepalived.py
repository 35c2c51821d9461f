#!/usr/bin/python3
"""Self-test of the netlab harness with real keepalived (VRRPv3).

Two keepalived nodes (n1 priority 200, n2 priority 100, advert_int 0.1) and a
client on the lab bridge, once with an IPv4 VIP and once with an IPv6 VIP:

  * n1 takes the VIP, n2 does not; the client reaches the VIP and its
    neighbour entry for it has n1's MAC;
  * SIGKILL of all of n1's keepalived processes -> n2 takes the VIP (takeover
    time measured from the kill), the client's neighbour entry moves to n2's
    MAC (gratuitous ARP / unsolicited NA) and the VIP still answers;
  * a clean SIGTERM of n2's keepalived removes the VIP from n2;
  * the tshark capture of the whole run decodes without malformed packets,
    warnings/errors or bad VRRP checksums, and decode_check does flag bad
    checksums when told the wrong (v2-style) checksum form for IPv4.

Before that, decode_check is checked offline against a crafted pcap so it
cannot pass vacuously. Exit 0 on pass, non-zero with a message on failure.
"""

import os
import signal
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from addrwatch import AddressWatcher  # noqa: E402
from capture import Capture, decode_check, read_fields  # noqa: E402
from keepalived_lab import Keepalived  # noqa: E402
from netlab import Lab  # noqa: E402
from processes import LabError, log, wait_until  # noqa: E402
from runner import run_test  # noqa: E402

ADVERT_INT = 0.1
TAKEOVER_LIMIT_MS = 1500  # expected ~ 3*0.1 + skew (0.06) = 0.36 s after the last advert


def expect(cond, expected, got):
    if not cond:
        raise LabError(f"expected {expected}; got {got}")


def write_bad_pcap(path):
    """A classic pcap with two IPv4 VRRP frames: a truncated one and one with a
    wrong checksum."""
    def frame(payload):
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0xC0, 20 + len(payload), 1, 0, 255, 112,
                          0, bytes([198, 51, 100, 11]), bytes([224, 0, 0, 18]))
        s = sum(struct.unpack("!10H", hdr))
        s = (s & 0xFFFF) + (s >> 16)
        s = (s & 0xFFFF) + (s >> 16)
        hdr = hdr[:10] + struct.pack("!H", ~s & 0xFFFF) + hdr[12:]
        return bytes.fromhex("01005e000012" "020000000011" "0800") + hdr + payload
    frames = [frame(b"\x31\x33"),
              frame(bytes.fromhex("3133c801000a0000c6336464"))]
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for fr in frames:
            f.write(struct.pack("<IIII", 0, 0, len(fr), len(fr)) + fr)


def check_decoder_offline(lab):
    path = lab.path("bad.pcap")
    write_bad_pcap(path)
    count, problems = decode_check(path)
    expect(count == 2 and len(problems) == 2
           and "MALFORMED" in problems[0] and "(Bad)" in problems[1],
           "decode_check to flag the crafted pcap's truncated frame as malformed and "
           "its second frame's checksum as bad",
           f"count={count}, problems={problems}")
    log("decode_check flags a crafted malformed frame and a bad checksum: ok")


def scenario(family):
    v6 = family == 6
    vip = "2001:db8:100::100/64" if v6 else "198.51.100.100/24"
    vip_addr = vip.split("/")[0]
    with Lab(f"harness_ka{family}") as lab:
        check_decoder_offline(lab)
        c = lab.add_host("c", ipv4="198.51.100.10/24", ipv6="2001:db8:100::10/64")
        n1 = lab.add_host("n1", ipv4="198.51.100.11/24", ipv6="2001:db8:100::11/64")
        n2 = lab.add_host("n2", ipv4="198.51.100.12/24", ipv6="2001:db8:100::12/64")
        cap = Capture(lab).start()
        w1, w2 = AddressWatcher(n1, vip), AddressWatcher(n2, vip)
        params = dict(vips=[vip], version=3, virtual_router_id=50 + family,
                      advert_int=ADVERT_INT)
        k1 = Keepalived(n1, priority=200, **params).start()
        k2 = Keepalived(n2, priority=100, **params).start()

        # n1 (higher priority) becomes master, n2 stays backup.
        t = w1.wait_present(5)
        log(f"IPv{family}: VIP {vip} on n1 {1000 * (t - w1.started):.0f} ms after start")
        time.sleep(10 * ADVERT_INT)
        expect(not n2.has_address(vip) and not w2.events,
               f"the backup n2 never to hold {vip_addr}",
               f"n2 VIP events {w2.events}, addresses {n2.addresses()}")

        # The client reaches the VIP through n1's MAC.
        wait_until(lambda: c.ping(vip_addr), 5, step=0.1,
                   what=f"client ping to VIP {vip_addr} (master n1) to succeed")
        mac = c.neigh_mac(vip_addr)
        expect(mac == n1.mac, f"client neighbour entry for {vip_addr} = n1's MAC {n1.mac}",
               f"{mac} (n2 is {n2.mac})")

        # Crash the master: SIGKILL every keepalived process on n1.
        pids = k1.pids()
        expect(len(pids) == 2, "keepalived parent + VRRP child on n1", f"pids {pids}")
        t_kill = time.monotonic()
        k1.kill(signal.SIGKILL)
        t_up = w2.wait_present(5)
        takeover_ms = 1000 * (t_up - t_kill)
        print(f"IPv{family} takeover (SIGKILL of master keepalived -> VIP on backup): "
              f"{takeover_ms:.0f} ms", flush=True)
        expect(0 < takeover_ms < TAKEOVER_LIMIT_MS,
               f"takeover within {TAKEOVER_LIMIT_MS} ms", f"{takeover_ms:.0f} ms")
        # keepalived had no chance to remove the VIP on n1 (as with a real crash).
        log(f"after SIGKILL n1 still has the VIP: {n1.has_address(vip)}")

        # The client follows to n2 (GARP / unsolicited NA) and still reaches the VIP.
        wait_until(lambda: c.neigh_mac(vip_addr) == n2.mac, 3, step=0.02,
                   what=f"client neighbour entry for {vip_addr} to become n2's MAC {n2.mac} "
                        f"(now {c.neigh_mac(vip_addr)})")
        expect(c.ping(vip_addr, count=2), f"client ping to VIP {vip_addr} via n2 to succeed",
               "no reply")

        # Clean stop of the new master removes its VIP.
        t_stop = time.monotonic()
        k2.stop()
        t_gone = w2.wait_absent(5)
        log(f"IPv{family}: SIGTERM of n2 keepalived removed the VIP in "
            f"{1000 * (t_gone - t_stop):.0f} ms")
        expect(not k2.alive(), "no keepalived process left on n2", f"pids {k2.pids()}")

        if not v6:
            # link_down isolates a host (both veth ends down), link_up restores it
            # with its addresses intact.
            expect(c.ping(n2.ipv4), "client reaches n2 before link_down", "no reply")
            n2.link_down()
            expect(not c.ping(n2.ipv4, timeout_s=0.5), "client cannot reach n2 after "
                   "link_down", "a reply")
            n2.link_up()
            wait_until(lambda: c.ping(n2.ipv4) and c.ping(n2.ipv6), 5, step=0.1,
                       what="client ping to n2 (IPv4 and IPv6) after link_up")
            # The config writer also handles VRRPv2 + unicast (checked by keepalived -t).
            Keepalived(c, vips=["198.51.100.101/24"], version=2, virtual_router_id=99,
                       advert_int=1, nopreempt=True, unicast_src_ip=c.ipv4,
                       unicast_peers=[n1.ipv4, n2.ipv4]).config_test()

        # The capture of all this is clean.
        count, problems = cap.decode_check()
        expect(count >= 10 and not problems,
               "at least 10 VRRP packets, none malformed / with warnings / bad checksum",
               f"{count} packets, problems: {problems[:10]}")
        log(f"IPv{family}: capture has {count} VRRP packets, no problems")
        # The same takeover seen on the wire: n1's last advert -> n2's first.
        src = "ipv6.src" if v6 else "ip.src"
        adverts = read_fields(cap.pcap, ["frame.time_relative", src, "vrrp.prio"])
        last_n1 = max(float(a["frame.time_relative"]) for a in adverts if a[src] == (
            n1.link_local if v6 else n1.ipv4.split("/")[0]))
        first_n2 = min(float(a["frame.time_relative"]) for a in adverts if a[src] == (
            n2.link_local if v6 else n2.ipv4.split("/")[0]))
        print(f"IPv{family} on the wire: n1's last advert -> n2's first advert "
              f"{1000 * (first_n2 - last_n1):.0f} ms", flush=True)
        n1_prios = {a["vrrp.prio"] for a in adverts if a[src] == (
            n1.link_local if v6 else n1.ipv4.split("/")[0])}
        expect(n1_prios == {"200"}, "n1 to send only priority 200 adverts (a SIGKILL "
               "gives keepalived no chance to resign with priority 0)",
               f"priorities {sorted(n1_prios)}")
        if not v6:
            # The pseudo-header question only exists for VRRPv3 over IPv4: told the
            # wrong form, decode_check must complain about every advertisement.
            bad_count, bad = decode_check(cap.pcap,
                                          prefs={"vrrp.v3_checksum_as_in_v2": "TRUE"})
            expect(bad and len(bad) == bad_count,
                   "every packet flagged with vrrp.v3_checksum_as_in_v2:TRUE",
                   f"{len(bad)} of {bad_count} flagged")
        return takeover_ms


def main():
    results = {family: scenario(family) for family in (4, 6)}
    print("takeover ms: " + ", ".join(f"IPv{f} {ms:.0f}" for f, ms in results.items()),
          flush=True)


if __name__ == "__main__":
    run_test(main, timeout=240)
