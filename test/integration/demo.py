#!/usr/bin/env python3
"""The pgvrrpd demo: a two-node PostgreSQL 15 pair (primary + streaming
standby) behind one VIP, in network namespaces, run by pgvrrpd with the
shipped example configs (etc/n1.ini, etc/n2.ini) adapted to the lab: 0.1 s
adverts, the lab's data directories, the hooks copied where only root can
write. A client writes through the VIP all along.

Part 1, PostgreSQL dies on the master: timeline of fault, VIP moved,
promotion, first write accepted; then the dead server is rejoined as a
standby by itself (auto_rejoin).
Part 2, the new master's whole server dies; the other node takes over. The
dead node comes back with its PostgreSQL started as a stale primary: it is
fenced and rejoined, and never takes the VIP back.
Part 3, a planned switchover back (pgvrrpctl switchover): no acknowledged
write lost, the old primary rejoined by pg_rewind."""
import argparse
import os
import re
import signal
import sys
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pgvrrpd_node  # noqa: E402
from addrwatch import AddressWatcher  # noqa: E402
from netlab import Lab  # noqa: E402
from pg_pair import HookDir  # noqa: E402
from pglab import PG_BIN  # noqa: E402
from pgvrrpd_node import PgvrrpdNode  # noqa: E402
from processes import wait_until  # noqa: E402
from replication import make_primary, make_standby, writers  # noqa: E402
from systemd_unit import run_under_unit, runtime_dir  # noqa: E402
from writer import Writer, check_no_lost_writes  # noqa: E402

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
VIP = "198.51.100.100"
STAMP = re.compile(r"^(\S+Z) pgvrrpd\[\d+\]: \w+: (.*)$")


def node_config(name, node, hooks, sock):
    """etc/NAME.ini with the lab's paths and a 0.1 s failover setup;
    `sock`: its control socket."""
    with open(os.path.join(TOP, "etc", f"{name}.ini")) as f:
        text = f.read()
    subs = [(r"/usr/lib/pgvrrpd/hooks", hooks.path),
            # the two daemons share the file system: one socket each
            (rf"\nnode = {name}\n", f"\nnode = {name}\ncontrol_socket = {sock}\n"),
            (r"advert_interval = 1\n", "advert_interval = 0.1\n"),
            (r"host=/run/postgresql", f"host={node.sockdir}"),
            (r"user=pgvrrpd", "user=postgres"),
            (r"hook_env = PGDATA=\S+", f"hook_env = PGDATA={node.datadir}"),
            (r"hook_env = PGHOST=\S+", f"hook_env = PGHOST={node.sockdir}\nhook_env = PGUSER=postgres"),
            (r"hook_env = REPLICATION_USER=\S+", "hook_env = REPLICATION_USER=postgres"),
            # the lab's servers are no systemd units: the hooks (as
            # postgres, as in the examples) start them with pg_ctl
            (r"hook_env = PG_(START|STOP)_COMMAND=.*\n", ""),
            (r"\[check pg\]\n", "[check pg]\n"),
            (r"(\[check pg\][^\[]*?)interval = 1\ntimeout = 3", r"\1interval = 0.1\ntimeout = 0.3"),
            (r"(\[check witness\][^\[]*?)interval = 1\nfall = 3",
             r"\1interval = 0.05\ntimeout = 0.05\nfall = 2")]
    for pattern, repl in subs:
        text, n = re.subn(pattern, repl, text)
        if n == 0 and "PG_(START" not in pattern:
            raise SystemExit(f"demo: etc/{name}.ini no longer has {pattern!r}")
    return text


def start_daemon(host, text):
    """As the systemd unit runs it: in its sandbox, as postgres with only the
    unit's two capabilities (the lab's temp dir standing for the unit's
    /var/lib/postgresql and /run/postgresql)."""
    d = PgvrrpdNode(host)
    d.fixed_text = text
    run_under_unit(d)
    return d.start()


def events(daemon, t0_wall, patterns):
    """(ms after t0, text) of the daemon's log lines matching patterns."""
    out = []
    for line in daemon.log_text().splitlines():
        m = STAMP.match(line)
        if not m or not any(p in m[2] for p in patterns):
            continue
        t = datetime.strptime(m[1], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
        ms = (t.timestamp() - t0_wall) * 1000
        if ms >= -1:
            out.append((ms, m[2]))
    return out


def show(rows):
    for ms, text in sorted(rows):
        print(f"  {ms:8.0f} ms  {text[:110]}", flush=True)


def first_write_after(w, t0):
    ok = [r for r in w.results if r.ok and r.start >= t0]
    return min(ok, key=lambda r: r.end) if ok else None


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pgvrrpd", default=os.path.join(TOP, "build", "pgvrrpd"))
    args = parser.parse_args()
    pgvrrpd_node.PGVRRPD_BIN = os.path.abspath(args.pgvrrpd)
    pgvrrpd_node.PGVRRPCTL_BIN = os.path.join(os.path.dirname(pgvrrpd_node.PGVRRPD_BIN),
                                              "pgvrrpctl")

    with Lab("demo") as lab:
        print("lab: namespaces n1 (198.51.100.1), n2 (198.51.100.2), client cl, gateway gw "
              f"(198.51.100.254, the witness); VIP {VIP}\n", flush=True)
        n1 = lab.add_host("n1", ipv4="198.51.100.1/24")
        n2 = lab.add_host("n2", ipv4="198.51.100.2/24")
        cl = lab.add_host("cl", ipv4="198.51.100.20/24")
        lab.add_host("gw", ipv4="198.51.100.254/24")
        hooks = HookDir(lab)
        p1 = make_primary(n1, listen="*")
        p2 = make_standby(p1, n2, listen="*")
        print(f"PostgreSQL {PG_BIN.split('/')[-2]}: n1 primary, n2 streaming standby", flush=True)
        d1 = start_daemon(n1, node_config("n1", p1, hooks, os.path.join(runtime_dir(lab), "n1-pg.sock")))
        d1.wait_state("MASTER", 5)
        d2 = start_daemon(n2, node_config("n2", p2, hooks, os.path.join(runtime_dir(lab), "n2-pg.sock")))
        d2.wait_state("BACKUP", 5)
        wait_until(lambda: n1.has_address(VIP), 5, 0.02, "the VIP on n1")
        print("pgvrrpd: n1 MASTER with the VIP, n2 BACKUP", flush=True)
        w = Writer(cl, [VIP]).start()
        w.wait_acknowledged(5)
        print(f"client: writing through the VIP every 50 ms ({w.summary()})\n", flush=True)

        print("part 1: PostgreSQL on n1 dies (pg_ctl stop -m immediate)", flush=True)
        watch = AddressWatcher(n2, VIP)
        t0, t0_wall = time.monotonic(), time.time()
        p1.stop("immediate")
        t_vip = watch.wait_present(5)
        w.wait_acknowledged(3, server="n2")
        rows = events(d1, t0_wall, ["to=FAULT"])
        rows += events(d2, t0_wall, ["to=MASTER", "promote:", "accepts writes: adding"])
        rows.append(((t_vip - t0) * 1000, "VIP present on n2"))
        first = first_write_after(w, t0)
        rows.append(((first.end - t0) * 1000, f"first write through the VIP accepted "
                     f"(id {first.id}, by {first.server})"))
        show(rows)
        d1.wait_state("BACKUP", 60)
        p1.wait_streaming(p2, 60)
        show(events(d1, t0_wall, ["rejoin: rewound", "rejoin exited", "to=BACKUP"]))
        print(f"  n1's server is a standby of n2 again; VIP on n2 only: "
              f"{n2.has_address(VIP) and not n1.has_address(VIP)}\n", flush=True)
        print("  pgvrrpctl status on n2:", flush=True)
        for line in d2.ctl("status").stdout.splitlines():
            print(f"    {line}", flush=True)
        print(flush=True)

        print("part 2: the whole n2 dies (pgvrrpd and PostgreSQL killed, link down)", flush=True)
        watch = AddressWatcher(n1, VIP)
        t0, t0_wall = time.monotonic(), time.time()
        d2.kill(signal.SIGKILL)
        p2.kill()
        n2.link_down()
        t_vip = watch.wait_present(5)
        w.wait_acknowledged(3, server="n1")
        rows = events(d1, t0_wall, ["to=MASTER", "takeover held", "promote:",
                                    "accepts writes: adding"])
        rows.append(((t_vip - t0) * 1000, "VIP present on n1"))
        first = first_write_after(w, t0)
        rows.append(((first.end - t0) * 1000, f"first write through the VIP accepted "
                     f"(id {first.id}, by {first.server})"))
        show(rows)

        print("\n  n2 comes back, its PostgreSQL started as the old (stale) primary:",
              flush=True)
        n2.link_up()
        n2.run(["ip", "addr", "flush", "to", VIP + "/32"], check=False)
        p2.start()
        t0, t0_wall = time.monotonic(), time.time()
        d2 = start_daemon(n2, node_config("n2", p2, hooks, os.path.join(runtime_dir(lab), "n2-pg.sock")))
        wait_until(lambda: p2 not in writers([p2]), 10, 0.01, "n2's stale primary fenced")
        d2.wait_state("BACKUP", 60)
        p2.wait_streaming(p1, 60)
        show(events(d2, t0_wall, ["fencing it", "fence exited", "rejoin: rewound",
                                  "rejoin exited", "transition"]))

        print("\npart 3: a planned switchover back to n2 (pgvrrpctl switchover on n1, the master)",
              flush=True)
        t0, t0_wall = time.monotonic(), time.time()
        cp = d1.ctl("switchover", "--to", p2.addr, "--wait", "120", timeout=130)
        for line in cp.stdout.splitlines():
            print(f"    {line}", flush=True)
        w.wait_acknowledged(3, server="n2")
        rows = events(d1, t0_wall, ["switchover: the local server", "to=FAULT", "to=BACKUP",
                                    "rejoin: rewound", "switchover done"])
        rows += events(d2, t0_wall, ["to=MASTER", "accepts writes: adding"])
        first = min((r for r in w.results if r.ok and r.start >= t0 and r.server == "n2"),
                    key=lambda r: r.end)
        rows.append(((first.end - t0) * 1000, f"first write through the VIP accepted by n2 "
                     f"(id {first.id})"))
        show(rows)
        kept = check_no_lost_writes(w, p2)
        print(f"  every one of the {kept} writes acknowledged so far is on n2", flush=True)
        w.stop()
        both = [x.host.short for x in writers([p1, p2])]
        holder = "n1" if n1.has_address(VIP) else "n2" if n2.has_address(VIP) else "?"
        print(f"\nend: VIP on {holder}, writable servers "
              f"{both}, client {w.summary()}", flush=True)
        # Attempts started while the VIP moved wait for TCP's SYN retransmit
        # (their first SYN went to the old holder, 1 s initial RTO): they end
        # late, but the outage is measured to the first write acknowledged
        # after the fault, whichever attempt it was.
        late = [r for r in w.results if r.ok and r.end - r.start > 0.9]
        if late:
            print(f"  {len(late)} writes started while the VIP moved were acknowledged "
                  f"{min(r.end - r.start for r in late):.1f}-"
                  f"{max(r.end - r.start for r in late):.1f} s after they started: their first "
                  "SYN went to the old holder\n  and TCP resent it after 1 s. Writes started "
                  "after them went through at once; the outages above run from the\n  last "
                  "write acknowledged before each fault to the first one after.", flush=True)
        d1.stop()
        d2.stop()
    print("demo finished; namespaces removed")


if __name__ == "__main__":
    main()
