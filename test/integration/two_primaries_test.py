#!/usr/bin/env python3
"""The two-primaries probe's rule (two_primaries.py), on made-up answers:
a failover seen in order is no violation; an answer inside the other
server's writable run is; an unanswered attempt breaks a run."""
import sys
import unittest

from two_primaries import Answer, overlaps, writable_runs


def w(t):
    return Answer(True, t, t)


def ro(t):
    return Answer(False, t, t)


def lost(t0, t1):
    return Answer(None, t0, t1)


class TwoPrimariesRule(unittest.TestCase):
    def test_failover_in_order_is_not_a_violation(self):
        # n1 writable until the fault at 10.0, n2 writable from 10.3; the last
        # sample asked n1 at 9.9 and n2, slowly, at 10.4.
        answers = {"n1": [w(9.7), w(9.8), w(9.9), lost(10.0, 11.0), lost(11.1, 12.1)],
                   "n2": [ro(9.7), ro(9.8), w(10.4), w(10.5), w(11.1)]}
        self.assertEqual(overlaps(answers), [])

    def test_answer_inside_a_run_is_a_violation(self):
        answers = {"n1": [w(1.0), w(1.2), w(1.4)], "n2": [ro(1.0), w(1.25), w(1.45)]}
        found = overlaps(answers)
        self.assertTrue(found)
        self.assertIn(("n1", 1.0, 1.4, "n2", 1.25),
                      [(a, r.first, r.last, b, t) for a, r, b, t in found])

    def test_read_only_answer_splits_a_run(self):
        runs = writable_runs([w(1.0), ro(1.1), w(1.2)])
        self.assertEqual([(r.first, r.last) for r in runs], [(1.0, 1.0), (1.2, 1.2)])
        self.assertEqual(overlaps({"a": [w(1.0), ro(1.1), w(1.2)], "b": [w(1.15)]}), [])

    def test_unanswered_attempt_splits_a_run(self):
        # A fenced and restarted primary: no answer between 1.05 and 1.3.
        self.assertEqual(overlaps({"a": [w(1.0), lost(1.05, 1.3), w(1.4)], "b": [w(1.2)]}), [])

    def test_stale_primary_beside_the_master(self):
        answers = {"n1": [lost(0.0, 1.0), w(2.0), w(2.1), w(2.2)],
                   "n2": [w(1.95), w(2.05), w(2.15)]}
        self.assertTrue(overlaps(answers))


if __name__ == "__main__":
    sys.exit(unittest.main())
