#!/usr/bin/env python3
"""Issue 11, the partition cases with synchronous replication (sync_grace
2 s, a witness gw that both nodes ping, the writer on cl). Frames are
dropped at the lab's bridge between two ports only, both ways.

1. The master loses the witness (n1 - gw cut), on: n1 goes FAULT and
   fences its server; n2's last reading of n1 says synchronous, so it
   promotes by itself; every acknowledged write is on n2. n1, still
   reaching n2, is rewound as n2's standby and named synchronous again,
   though its router stays FAULT.
2. The standby loses the witness (n2 - gw cut), on: n2 goes FAULT, but its
   server stays a streaming standby (only a primary is fenced): n1 stays
   master, synchronous, and writes go on.
3. The two nodes cut from each other, both reaching the witness and the
   client (n1 - n2 cut), on and strict: n1's commits wait for n2. n2 hears
   no advert, its last reading is fresh, it promotes and takes the VIP
   (its gratuitous ARP moves the client to it). With on, n1 clears the name
   after sync_grace and acknowledges what was waiting: two writable
   primaries. With strict neither side acknowledges anything (n2 waits for
   a standby too) until the heal. When the cut heals, the primary on
   the newer timeline (n2) stays master whatever the priorities, and n1's
   server, the stale side, is fenced and rewound: with on the writes n1
   acknowledged during the split are gone, with strict nothing
   acknowledged is lost. The test asserts exactly that outcome."""
import time

from netlab import Lab
from pg_pair import VIP, PgPair
from processes import LabError, log, wait_until
from runner import run_test
from sync_kills import add_app_role, notes_on, standby_names as names, sync_steps as steps
from writer import Writer

GRACE = 2.0


def sync_pair(lab, mode: str) -> PgPair:
    pair = PgPair(lab, witness=True)
    for d in (pair.d1, pair.d2):
        d.routers["pg"].update(synchronous=mode, sync_grace=GRACE)
    pair.start()
    wait_until(lambda: names(pair.p).startswith("FIRST 1 ("), 10, 0.1, "n1 naming n2")
    add_app_role(pair)  # and this test's psql keeps a reserved slot
    return pair


def acked_by(w, server: str, after: float) -> set[str]:
    return {r.note for r in w.results if r.ok and r.server == server and r.end >= after}


def main():
    master_loses_witness()
    standby_loses_witness()
    for mode in ("on", "strict"):
        nodes_cut_from_each_other(mode)


def master_loses_witness():
    with Lab("pg_sync_part_a") as lab:
        pair = sync_pair(lab, "on")
        w = pair.writer(keep=True, user="app", max_inflight=4)
        time.sleep(0.5)
        lab.cut(pair.n1, pair.gw)
        pair.d1.wait_state("FAULT", 3)
        pair.d2.wait_state("MASTER", 5)
        wait_until(lambda: pair.n2.has_address(VIP), 5, 0.02, "the VIP on n2")
        if "takeover held: synchronous" in pair.d2.log_text():
            raise LabError("n2 held its takeover though n1 was synchronous")
        w.wait_acknowledged(3, timeout=10, server="n2")
        lost = {r.note for r in w.results if r.ok} - notes_on(pair.s)
        if lost:
            raise LabError(f"acknowledged writes missing on n2: {sorted(lost)[:10]}")
        # n1 still reaches n2: rewound as its standby, and named synchronous.
        wait_until(lambda: names(pair.s).startswith("FIRST 1 ("), 60, 0.2,
                   lambda: f"n2 naming n1 (now '{names(pair.s)}'); n1: {pair.d1.recent_log(8)}")
        if pair.d1.state() != "FAULT" or pair.n1.has_address(VIP):
            raise LabError(f"n1, without its witness, is {pair.d1.state()}")
        w.stop()
        log(f"master lost the witness: n2 promoted by itself, {len(w.acknowledged_ids())} "
            f"acknowledged writes all on n2, n1 its synchronous standby again ({names(pair.s)})")


def standby_loses_witness():
    with Lab("pg_sync_part_b") as lab:
        pair = sync_pair(lab, "on")
        w = pair.writer(keep=True, user="app", max_inflight=4)
        before = names(pair.p)
        lab.cut(pair.n2, pair.gw)
        pair.d2.wait_state("FAULT", 3)
        time.sleep(2 * GRACE)
        if pair.d1.state() != "MASTER" or [t for t in pair.d1.transitions() if t[1] != "MASTER"
                                           and t[0] == "MASTER"]:
            raise LabError(f"n1 left MASTER: {pair.d1.transitions()}")
        if names(pair.p) != before or not pair.s.is_in_recovery():
            raise LabError(f"n1's setting went from '{before}' to '{names(pair.p)}'")
        t = time.monotonic()
        w.wait_acknowledged(10, timeout=5)
        if not acked_by(w, "n1", t):
            raise LabError("writes stopped on n1")
        w.stop()
        log(f"standby lost the witness: n2 FAULT with its server streaming, n1 master and "
            f"synchronous throughout ({names(pair.p)})")


def nodes_cut_from_each_other(mode: str):
    with Lab(f"pg_sync_part_c_{mode}") as lab:
        pair = sync_pair(lab, mode)
        # An application's deadlines (3 s for a statement): a commit that
        # waits for the lost standby is still waited for when n1 lets it go.
        w = Writer(pair.cl, [VIP], keep=True, user="app", max_inflight=4).start()
        w.wait_acknowledged(5, timeout=10)
        # And a client of n1's real address, as the VIP's ARP does not move.
        direct = Writer(pair.cl, [pair.p], note="direct", keep=True, user="app",
                        max_inflight=4).start()
        direct.wait_acknowledged(3, timeout=10)
        time.sleep(0.5)
        t_cut = time.monotonic()
        lab.cut(pair.n1, pair.n2)
        pair.d2.wait_state("MASTER", 5)
        wait_until(lambda: pair.n2.has_address(VIP), 5, 0.02, "the VIP on n2")
        if mode == "on":
            w.wait_acknowledged(3, timeout=15, server="n2")
            log(f"{mode}: cut: n2 promoted by itself and takes the writes through the VIP")
        else:
            log(f"{mode}: cut: n2 promoted by itself; its commits wait for a standby too")
        if mode == "on":
            wait_until(lambda: steps(pair.d1)[-1:] == ["asynchronous"], GRACE + 5, 0.05,
                       lambda: f"n1 going asynchronous: {steps(pair.d1)}")
            wait_until(lambda: acked_by(direct, "n1", t_cut + GRACE), 10, 0.05,
                       "n1 acknowledging writes again, asynchronously")
        else:
            time.sleep(2 * GRACE)
            if pair.d1.state() != "MASTER" or names(pair.p) == "":
                raise LabError(f"strict n1: {pair.d1.state()}, '{names(pair.p)}'")
        log(f"{mode}: both hold the VIP: {pair.n1.has_address(VIP)} {pair.n2.has_address(VIP)}")

        # Heal: n2 (newer timeline) stays master though n1 has the higher
        # priority; n1's server is fenced and rewound as n2's standby.
        faulted_before = pair.d1.state() == "FAULT"
        lab.heal()
        t_heal = time.monotonic()
        if not faulted_before:
            wait_until(lambda: "stale side of a split" in pair.d1.log_text(), 5, 0.05,
                       lambda: f"n1 giving way: {pair.d1.recent_log(10)}")
        pair.wait_rejoined(60)
        # n1 is n2's standby now: what waited on n2 goes through.
        w.wait_acknowledged(3, timeout=15, server="n2")
        direct.stop()
        time.sleep(0.5)
        w.stop()
        if pair.d2.state() != "MASTER" or not pair.n2.has_address(VIP) \
                or pair.n1.has_address(VIP):
            raise LabError(f"after the heal: n2 {pair.d2.state()}, VIP on n1 "
                           f"{pair.n1.has_address(VIP)}, on n2 {pair.n2.has_address(VIP)}")
        if any(t[1] != "MASTER" for t in pair.d2.transitions() if t[0] == "MASTER"):
            raise LabError(f"n2 left MASTER at the heal: {pair.d2.transitions()}")
        results = w.results + direct.results
        acked = {r.note for r in results if r.ok}
        lost = acked - notes_on(pair.s)
        # What n1 acknowledged after the cut: with on, only once it had
        # cleared the name (sync_grace after the cut at the earliest), and
        # every one of those is lost; with strict, nothing.
        split = {r.note: r.end - t_cut for r in results if r.ok and r.server == "n1"
                 and r.end > t_cut + 0.5}
        early = {n: round(t, 3) for n, t in split.items() if t < GRACE}
        if mode == "strict" and split:
            raise LabError(f"strict n1 acknowledged {len(split)} writes while cut off")
        if mode == "on" and (not split or early):
            raise LabError(f"on: n1 acknowledged {len(split)} writes during the split, "
                           f"before sync_grace: {early}")
        if lost != set(split):
            raise LabError(f"{mode}: lost {len(lost)} acknowledged writes, expected exactly the "
                           f"{len(split)} n1 acknowledged during the split: "
                           f"{sorted(lost ^ set(split))[:10]}")
        how = ("n1 had gone FAULT (its own check) and was fenced" if faulted_before
               else "n1 gave way as the stale side")
        log(f"{mode}: healed after {time.monotonic() - t_heal:.1f} s ({how}): n2 kept the VIP, n1 "
            f"rewound as its standby; lost {len(lost)} of {len(acked)} acknowledged writes "
            f"(those n1 acknowledged during the split)")
        print(f"RESULT pg_sync_partition {mode} split_acked_on_n1={len(split)} lost={len(lost)}",
              flush=True)


run_test(main)
