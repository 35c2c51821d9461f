"""The two-node failover scenario most integration tests share: election,
the VIP answering a client, SIGKILL of the master (takeover within
Master_Down_Interval, the dead node's VIP expiring after its lease), then
SIGTERM of the new master (takeover after about Skew_Time)."""
from __future__ import annotations

import signal
import time

from addrwatch import AddressWatcher
from netlab import Lab
from pgvrrpd_node import (PgvrrpdNode, assert_single_holder, master_down_interval,
                          skew_time)
from processes import LabError, log, wait_until

# Scheduling and netlink latency allowed on top of the RFC timers.
MARGIN = 0.15
HIGH, LOW = 150, 100


def run(name: str, family: int = 4, interval: float = 0.1, version: int = 3,
        unicast: bool = False, lease: int = 2, simultaneous_start: bool = False,
        extra: dict | None = None) -> dict:
    """Runs the scenario and returns the measured figures (seconds)."""
    v4 = family == 4
    with Lab(name) as lab:
        n1 = lab.add_host("n1", ipv4="198.51.100.11/24", ipv6="2001:db8:100::11/64")
        n2 = lab.add_host("n2", ipv4="198.51.100.12/24", ipv6="2001:db8:100::12/64")
        client = lab.add_host("cl", ipv4="198.51.100.20/24", ipv6="2001:db8:100::20/64")
        vip = "198.51.100.100" if v4 else "2001:db8:100::100"
        keys = {"version": version, "advert_interval": interval,
                "virtual_ip": [vip + ("/24" if v4 else "/64")], "vip_lease": lease,
                **(extra or {})}

        def peer_keys(other):
            if not unicast:
                return {}
            return {"unicast_peer": (other.ipv4 if v4 else other.ipv6).split("/")[0]}

        a = PgvrrpdNode(n1, priority=HIGH, **keys, **peer_keys(n2))
        b = PgvrrpdNode(n2, priority=LOW, **keys, **peer_keys(n1))
        result = {}

        # -- election
        if simultaneous_start:
            # Both start within a few ms; the higher priority wins by its
            # shorter Skew_Time (RFC 5798 6.1), with preempt off.
            a.start()
            b.start()
        else:
            a.start()
            a.wait_state("MASTER", 3 * master_down_interval(HIGH, interval) + 2)
            b.start()
        a.wait_state("MASTER", master_down_interval(HIGH, interval) + 2)
        b.wait_state("BACKUP", 2)
        time.sleep(master_down_interval(LOW, interval) + 2 * interval)
        if b.state() != "BACKUP":
            raise LabError(f"n2 (priority {LOW}) left BACKUP while n1 was master: "
                           f"{b.transitions()}")
        assert_single_holder([n1, n2], vip, n1)
        if not client.ping(vip, count=1, timeout_s=2):
            raise LabError(f"client cannot ping the VIP {vip} held by n1")
        if client.neigh_mac(vip) != n1.mac:
            raise LabError(f"client's neighbour entry for {vip} is {client.neigh_mac(vip)}, "
                           f"expected n1's MAC {n1.mac}")

        # -- SIGKILL of the master: takeover after Master_Down_Interval
        watch_n2 = AddressWatcher(n2, vip)
        watch_n1 = AddressWatcher(n1, vip)
        t_kill = time.monotonic()
        a.kill(signal.SIGKILL)
        mdi = master_down_interval(LOW, interval)
        t_vip = watch_n2.wait_present(mdi + 2)
        takeover = t_vip - t_kill
        result["sigkill_takeover"] = takeover
        log(f"SIGKILL takeover {takeover * 1000:.0f} ms "
            f"(Master_Down_Interval {mdi * 1000:.0f} ms)")
        # The kill lands anywhere within an advert interval after the last
        # advert, so the takeover is between MDI - interval and MDI.
        if not (mdi - interval - MARGIN <= takeover <= mdi + MARGIN):
            raise LabError(f"SIGKILL takeover took {takeover * 1000:.0f} ms, expected "
                           f"{(mdi - interval) * 1000:.0f}..{mdi * 1000:.0f} ms + "
                           f"{MARGIN * 1000:.0f} ms margin")
        b.wait_state("MASTER", 1)
        # Gratuitous ARP / unsolicited NA moved the client's entry to n2.
        wait_until(lambda: client.neigh_mac(vip) == n2.mac, 2, 0.02,
                   f"client's neighbour entry for {vip} to move to n2's MAC {n2.mac}")
        if not client.ping(vip, count=1, timeout_s=2):
            raise LabError(f"client cannot ping the VIP {vip} after takeover by n2")
        # The killed daemon's VIP goes away by itself when its lease runs out.
        t_gone = watch_n1.wait_absent(lease + 3)
        result["lease_expiry"] = t_gone - t_kill
        log(f"n1's VIP expired {result['lease_expiry']:.2f} s after SIGKILL (lease {lease} s)")
        # The master renews the lease every third of it, in a gap between
        # adverts (up to 200 ms later): the kill finds between 2/3 of the
        # lease (less that slack) and all of it left.
        earliest = lease * 2 / 3 - 0.2 - 0.1
        if result["lease_expiry"] < earliest:
            raise LabError(f"n1's VIP vanished after {result['lease_expiry']:.2f} s, "
                           f"before the {earliest:.2f} s its {lease} s lease guarantees")
        watch_n1.stop()
        watch_n2.stop()

        # -- n1 comes back: preempt is off, it stays backup
        a.start()
        a.wait_state("BACKUP", 2)
        time.sleep(master_down_interval(HIGH, interval) + 2 * interval)
        if a.state() != "BACKUP":
            raise LabError(f"restarted n1 took over from n2 with preempt off: "
                           f"{a.transitions()}")
        assert_single_holder([n1, n2], vip, n2)

        # -- SIGTERM of the master: priority 0, takeover after Skew_Time
        watch_n1 = AddressWatcher(n1, vip)
        watch_n2 = AddressWatcher(n2, vip)
        t_term = time.monotonic()
        b.kill(signal.SIGTERM)
        t_vip = watch_n1.wait_present(mdi + 2)
        takeover = t_vip - t_term
        result["sigterm_takeover"] = takeover
        skew = skew_time(HIGH, interval)
        log(f"SIGTERM takeover {takeover * 1000:.0f} ms (Skew_Time {skew * 1000:.0f} ms)")
        if takeover > skew + MARGIN:
            raise LabError(f"SIGTERM takeover took {takeover * 1000:.0f} ms, expected about "
                           f"Skew_Time {skew * 1000:.0f} ms (+{MARGIN * 1000:.0f} ms)")
        watch_n2.wait_absent(1)
        if b.proc.wait(5) != 0:
            raise LabError(f"n2 exited with {b.proc.returncode} after SIGTERM, expected 0")
        if "resigned (priority 0 advert)" not in a.transitions()[-1][2]:
            raise LabError(f"n1 took over for another reason: {a.transitions()[-1]}")
        assert_single_holder([n1, n2], vip, n1)
        if not client.ping(vip, count=1, timeout_s=2):
            raise LabError(f"client cannot ping the VIP {vip} after SIGTERM takeover")
        drops = a.drops() + b.drops()
        if drops:
            raise LabError(f"adverts were dropped between two pgvrrpd nodes: {drops}")
        a.stop()
        print("RESULT " + name + " " + " ".join(
            f"{k}_ms={v * 1000:.0f}" for k, v in result.items()), flush=True)
        return result
