#!/usr/bin/env python3
"""The pgvrrpd demo: two nodes and a client in network namespaces, running
the shipped example configs (etc/n1.ini, etc/n2.ini) at 0.1 s adverts. The
master is killed (SIGKILL), the VIP moves; the old master comes back and
does not take it back; the new master is stopped cleanly (SIGTERM) and the
VIP moves back in Skew_Time. Prints a timeline."""
import argparse
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pgvrrpd_node  # noqa: E402
from netlab import AddressWatcher, Lab, wait_until  # noqa: E402
from pgvrrpd_node import PgvrrpdNode  # noqa: E402

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
VIP = "198.51.100.100"


def say(t0, text):
    print(f"  {(time.monotonic() - t0) * 1000:8.0f} ms  {text}", flush=True)


def holder(hosts):
    held = [h.short for h in hosts if h.has_address(VIP)]
    return ", ".join(held) or "nobody"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pgvrrpd", default=os.path.join(TOP, "build", "pgvrrpd"))
    parser.add_argument("--advert-interval", default="0.1")
    args = parser.parse_args()
    pgvrrpd_node.PGVRRPD_BIN = os.path.abspath(args.pgvrrpd)

    with Lab("demo") as lab:
        print("lab: namespaces n1, n2 (pgvrrpd), cl (client) on one bridge; "
              f"VIP {VIP}, adverts every {args.advert_interval} s\n")
        n1 = lab.add_host("n1", ipv4="198.51.100.11/24")
        n2 = lab.add_host("n2", ipv4="198.51.100.12/24")
        cl = lab.add_host("cl", ipv4="198.51.100.20/24")
        hosts = [n1, n2]
        a = PgvrrpdNode.from_file(n1, os.path.join(TOP, "etc", "n1.ini"),
                                  advert_interval=args.advert_interval)
        b = PgvrrpdNode.from_file(n2, os.path.join(TOP, "etc", "n2.ini"),
                                  advert_interval=args.advert_interval)
        t0 = time.monotonic()
        a.start()
        b.start()
        say(t0, "started pgvrrpd on n1 (priority 150) and n2 (priority 100)")
        a.wait_state("MASTER", 5)
        say(t0, f"n1 is MASTER, VIP on: {holder(hosts)}")
        wait_until(lambda: cl.ping(VIP), 3, 0.05, "client ping of the VIP")
        say(t0, f"client pings the VIP; its ARP entry: {cl.neigh_mac(VIP)} (n1 is {n1.mac})")

        print("\nkill -9 pgvrrpd on n1 (the master):")
        watch = AddressWatcher(n2, VIP)
        t0 = time.monotonic()
        a.kill(signal.SIGKILL)
        say(t0, "n1's pgvrrpd killed")
        t_vip = watch.wait_present(5)
        print(f"  {(t_vip - t0) * 1000:8.0f} ms  VIP added on n2 (Master_Down_Interval)")
        wait_until(lambda: cl.neigh_mac(VIP) == n2.mac, 3, 0.01, "client ARP update")
        say(t0, f"client's ARP entry moved to n2 ({n2.mac}) by gratuitous ARP")
        ok = cl.ping(VIP)
        say(t0, f"client ping of the VIP: {'ok' if ok else 'FAILED'}")
        wait_until(lambda: not n1.has_address(VIP), 10, 0.05, "n1's VIP lease to run out")
        say(t0, "n1's leftover VIP expired (vip_lease); "
                f"VIP on: {holder(hosts)}")

        print("\nn1's pgvrrpd restarts (preempt off: it must not take the VIP back):")
        t0 = time.monotonic()
        a.start()
        a.wait_state("BACKUP", 3)
        time.sleep(1)
        say(t0, f"n1 is {a.state()}, n2 is {b.state()}, VIP on: {holder(hosts)}")

        print("\nsystemctl stop pgvrrpd on n2 (SIGTERM: priority 0 advert):")
        watch = AddressWatcher(n1, VIP)
        t0 = time.monotonic()
        b.kill(signal.SIGTERM)
        say(t0, "SIGTERM sent to n2's pgvrrpd")
        t_vip = watch.wait_present(5)
        print(f"  {(t_vip - t0) * 1000:8.0f} ms  VIP added on n1 (Skew_Time)")
        b.proc.wait(5)
        say(t0, f"n2 exited with status {b.proc.returncode}; VIP on: {holder(hosts)}")
        ok = cl.ping(VIP)
        say(t0, f"client ping of the VIP: {'ok' if ok else 'FAILED'}")

        print("\nn1's transition log lines:")
        for line in a.log_text().splitlines():
            if "transition" in line:
                print("  " + line)
        a.stop()
    print("\ndemo finished; namespaces removed")


if __name__ == "__main__":
    main()
