#!/usr/bin/env python3
"""Several routers per daemon and several VIPs per router: each node is
master of one router (an IPv4 router with two VIPs, an IPv6 router), and
the survivor takes both over when the other node's daemon is killed."""
import signal

from addrwatch import AddressWatcher
from netlab import Lab
from pgvrrpd_node import PgvrrpdNode, assert_single_holder
from processes import LabError, log
from runner import run_test

V4 = ["198.51.100.100", "198.51.100.101"]
V6 = "2001:db8:100::100"


def node(host, prio_a, prio_b):
    n = PgvrrpdNode(host, "a", vrid=51, priority=prio_a, advert_interval=0.1,
                    virtual_ip=[v + "/24" for v in V4])
    # Router b preempts, so the node that starts second still gets it.
    return n.add_router("b", vrid=52, priority=prio_b, advert_interval=0.1,
                        virtual_ip=[V6 + "/64"], preempt=True)


def main():
    with Lab("multi_router") as lab:
        n1 = lab.add_host("n1", ipv4="198.51.100.11/24", ipv6="2001:db8:100::11/64")
        n2 = lab.add_host("n2", ipv4="198.51.100.12/24", ipv6="2001:db8:100::12/64")
        cl = lab.add_host("cl", ipv4="198.51.100.20/24", ipv6="2001:db8:100::20/64")
        a = node(n1, 150, 100).start()
        a.wait_state("MASTER", 3, "a")
        # A closed pipe or socket must cost a write, never the daemon.
        if signal.SIGPIPE not in a.ignored_signals():
            raise LabError(f"pgvrrpd does not ignore SIGPIPE: {sorted(a.ignored_signals())}")
        b = node(n2, 100, 150).start()
        # n1 is master of both until n2 (priority 150 for b) preempts b.
        b.wait_state("MASTER", 3, "b")
        a.wait_state("BACKUP", 1, "b")
        for vip in V4:
            assert_single_holder([n1, n2], vip, n1)
        assert_single_holder([n1, n2], V6, n2)
        for vip in V4 + [V6]:
            if not cl.ping(vip, timeout_s=2):
                raise LabError(f"client cannot ping {vip}")

        watches = [AddressWatcher(n2, v) for v in V4]
        a.kill(signal.SIGKILL)
        for w in watches:
            w.wait_present(1)
        b.wait_state("MASTER", 1, "a")
        if b.state("b") != "MASTER":
            raise LabError(f"n2 lost router b: {b.transitions('b')}")
        for vip in V4 + [V6]:
            if not cl.ping(vip, timeout_s=2):
                raise LabError(f"client cannot ping {vip} after n1 died")
        log("n2 holds both routers' VIPs after n1 was killed")
        b.stop()


run_test(main)
