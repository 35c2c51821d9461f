#!/usr/bin/env python3
"""The PostgreSQL lab itself (pglab.py), no pgvrrpd: n1 primary, n2 streaming
standby, a client cl. Writes on n1 reach n2; the client writes through n1's
real IPs; pausing replay makes the standby lag (received LSN moves, replayed
LSN does not) and resuming catches up; n1 stops (immediate), n2 is promoted
and takes the client's writes; n1 comes back as a stale primary (the split
brain fencing must prevent), takes one write, and is rejoined as n2's
standby with pg_rewind, which throws that write away, then rebuilt with
pg_basebackup; no acknowledged write is lost and exactly one server accepts
writes at the end. Prints the timings of each step."""
import time

from netlab import Lab
from pglab import format_lsn
from processes import LabError, log, processes_under, timed, wait_until
from replication import (make_primary, make_standby, pause_replay, promote,
                         rebuild_as_standby, resume_replay, rewind_as_standby, wait_caught_up,
                         writers)
from runner import run_test
from writer import Writer, check_no_lost_writes, probe_write

VIP = "198.51.100.100"
timings: dict[str, float] = {}


def expect(cond, msg):
    if not cond:
        raise LabError(msg)


def client_writes(cl, p, s):
    r = probe_write(cl, [p], "via n1 ipv4")
    expect(r.ok and r.server == "n1" and r.server_addr == p.addr,
           f"client write through n1's IPv4 {p.addr}: {r}")
    r = probe_write(cl, [p.addr6], "via n1 ipv6")
    expect(r.ok and r.server == "n1" and r.server_addr == p.addr6,
           f"client write through n1's IPv6 {p.addr6}: {r}")
    # What VIP tests do: listen="*" lets n1 accept connections on an address
    # added after it started.
    p.host.add_address(VIP + "/24")
    r = probe_write(cl, [VIP], "via a VIP")
    expect(r.ok and r.server == "n1" and r.server_addr == VIP, f"write through {VIP}: {r}")
    p.host.del_address(VIP + "/24")
    r = probe_write(cl, [s], "to the standby")
    expect(not r.ok and ("read-only" in r.error or "hot standby" in r.error),
           f"a write to the standby was expected to be refused as read-only: {r}")
    r = probe_write(cl, [s, p], "n2,n1 read-write")
    expect(r.ok and r.server == "n1", f"host=n2,n1 target_session_attrs=read-write: {r}")
    timings["probe_write"] = r.end - r.start


def lag_and_catch_up(p, s):
    pause_replay(s)
    replay0 = s.replay_lsn()
    p.psql("INSERT INTO writes(note) SELECT 'bulk ' || g FROM generate_series(1, 2000) g")
    target = p.lsn()
    wait_until(lambda: s.receive_lsn() >= target, 10, 0.02,
               what="n2 to receive WAL while replay is paused")
    time.sleep(0.3)
    replay1, receive1 = s.replay_lsn(), s.receive_lsn()
    expect(replay1 == replay0, f"replay moved while paused: {format_lsn(replay0)} -> "
                               f"{format_lsn(replay1)}")
    lag = receive1 - replay1
    expect(lag > 100_000, f"expected > 100 kB of lag, got {lag} bytes")
    expect(s.psql("SELECT count(*) FROM writes WHERE note LIKE 'bulk %'") == "0",
           "the standby shows rows whose replay was paused")
    log(f"paused: received {format_lsn(receive1)}, replayed {format_lsn(replay1)} "
        f"({lag} bytes behind)")
    resume_replay(s)
    timings["catch up"] = wait_caught_up(p, s)
    expect(s.psql("SELECT count(*) FROM writes WHERE note LIKE 'bulk %'") == "2000",
           "the standby lacks rows after catching up")


def main():
    with Lab("pglab") as lab:
        n1 = lab.add_host("n1", ipv4="198.51.100.11/24", ipv6="2001:db8:100::11/64")
        n2 = lab.add_host("n2", ipv4="198.51.100.12/24", ipv6="2001:db8:100::12/64")
        cl = lab.add_host("cl", ipv4="198.51.100.50/24", ipv6="2001:db8:100::50/64")

        p = make_primary(n1, listen="*")      # "*": see the VIP check in client_writes
        timings["initdb"], timings["primary start"] = p.initdb_seconds, p.start_seconds
        with timed() as t:
            s = make_standby(p, n2)
        timings["pg_basebackup"], timings["standby up"] = s.basebackup_seconds, t.seconds
        expect(p.system_identifier() == s.system_identifier(), "system identifiers differ")
        expect(not p.is_in_recovery() and s.is_in_recovery(), "roles are not n1 P, n2 S")
        wait_until(lambda: p.psql("SELECT application_name, client_addr, state "
                                  "FROM pg_stat_replication") == f"n2|{s.addr}|streaming",
                   5, 0.02, "n1's pg_stat_replication to show n2 streaming")

        p.psql("INSERT INTO writes(note) VALUES ('replicated')")
        timings["replicate one row"] = wait_caught_up(p, s)
        expect(s.psql("SELECT count(*) FROM writes WHERE note = 'replicated'") == "1",
               "n1's write is not on n2")

        client_writes(cl, p, s)
        lag_and_catch_up(p, s)

        # Failover: the client writes to host=n1,n2 read-write all along.
        w = Writer(cl, [p, s]).start()
        w.wait_acknowledged(5, server="n1")
        t_stop = time.monotonic()
        p.stop("immediate")
        timings["promote"] = promote(s)
        w.wait_acknowledged(5, server="n2")
        first_n2 = next(r.end for r in w.results if r.ok and r.server == "n2")
        timings["stop n1 -> first write on n2"] = first_n2 - t_stop
        w.stop()
        log(f"writer: {w.summary()}")
        expect(s.timeline() == 2, f"n2 on timeline {s.timeline()} after promotion")

        # n1 comes back as the stale primary of timeline 1 and takes a write:
        # two writable servers, what fencing must prevent. pg_rewind undoes it.
        p.start()
        expect({n.name for n in writers([p, s])} == {"n1", "n2"},
               "the restarted old primary was expected to accept writes")
        p.psql("INSERT INTO writes(note) VALUES ('stale')")
        p.kill()      # the server dies: pg_rewind has to run crash recovery itself
        expect(not p.processes(), f"n1 processes survived kill(): {p.processes()}")
        how = rewind_as_standby(p, s, fallback=False)
        timings["pg_rewind"], timings["rejoin (until streaming)"] = \
            p.rewind_seconds, p.rejoin_seconds
        log(f"n1 rejoined by {how}; pg_rewind said: "
            f"{[ln for ln in p.rewind_output.splitlines() if 'rewind' in ln or 'Done' in ln]}")
        expect("servers diverged" in p.rewind_output,
               f"pg_rewind did not find the divergence:\n{p.rewind_output}")

        r = probe_write(cl, [p, s], "after rejoin")
        expect(r.ok and r.server == "n2", f"write after rejoin: {r}")
        wait_caught_up(s, p)
        expect(p.is_in_recovery() and p.timeline() == 2,
               f"n1 is not a standby on timeline 2 (recovery {p.is_in_recovery()}, "
               f"timeline {p.timeline()})")
        expect(p.wal_receiver()["sender_host"] == s.addr, "n1 does not stream from n2")
        # (by note: ids are no help, n1 and n2 hand out the same sequence values)
        expect(p.psql("SELECT count(*) FROM writes WHERE note = 'stale'") == "0",
               "the stale primary's write survived pg_rewind")
        expect(p.psql(f"SELECT count(*) FROM writes WHERE id = {r.id}") == "1",
               "n1 lacks the write made on n2 after the rejoin")
        acked = check_no_lost_writes(w, s)
        check_no_lost_writes(w, p)
        log(f"all {acked} acknowledged writes are on n2 and n1")
        ws = writers([p, s])
        expect([n.name for n in ws] == ["n2"], f"writable servers after rewind: {ws}")

        # The fallback the rejoin hook uses when pg_rewind cannot: a new base backup.
        timings["rebuild (pg_basebackup)"] = rebuild_as_standby(p, s)
        r = probe_write(cl, [p, s], "after rebuild")
        expect(r.ok and r.server == "n2", f"write after rebuild: {r}")
        wait_caught_up(s, p)
        expect(p.psql(f"SELECT count(*) FROM writes WHERE id = {r.id}") == "1",
               "the rebuilt n1 lacks the write made on n2")
        check_no_lost_writes(w, p)
        ws = writers([p, s])
        expect([n.name for n in ws] == ["n2"], f"writable servers at the end: {ws}")
        tmpdir = lab.tmpdir

    left = processes_under(tmpdir)
    expect(not left, f"postgres processes left behind: {left}")
    print("timings: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in timings.items()),
          flush=True)


run_test(main, timeout=120)
