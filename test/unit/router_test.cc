// vrrp::Router (vrrpd/core/router.h) driven with a fake clock: the state
// machine rules of RFC 5798 6.4 / RFC 3768 6.4, then the router's hooks for
// the failover policy, beyond RFC 5798.
#include "vrrpd/core/router.h"

#include <doctest/doctest.h>

#include <memory>

#include "router_fixtures.h"

using namespace router_fixtures;

TEST_CASE("RFC 5798 6.1: Skew_Time and Master_Down_Interval") {
  Router r(params(100, Centiseconds(100)), kSelf);
  // (256 - 100) * 1 s / 256 = 609.375 ms
  CHECK(r.skew_time() == 609375us);
  CHECK(r.master_down_interval() == 3s + 609375us);
  Router fast(params(200, Centiseconds(10)), kSelf);
  CHECK(fast.skew_time() == 21875us);  // 56 * 100 ms / 256
  CHECK(fast.master_down_interval() == 321875us);
}

TEST_CASE("RFC 3768 6.1: v2 Skew_Time is (256 - Priority) / 256 seconds") {
  Router r(params(100, Centiseconds(300), 2), kSelf);
  CHECK(r.skew_time() == 609375us);
  CHECK(r.master_down_interval() == 9s + 609375us);
}

TEST_CASE("RFC 5798 6.4.1: a non-owner starts as backup with Master_Down_Timer armed") {
  Router r(params(100), kSelf);
  auto out = r.start(t0);
  CHECK(r.state() == State::backup);
  REQUIRE(transition(out));
  CHECK(transition(out)->from == State::initialize);
  CHECK(transition(out)->cause == pgvrrpd::vrrp::Cause::startup);
  CHECK_FALSE(has(out, Kind::send_advert));
  CHECK_FALSE(has(out, Kind::remove_vips));
  CHECK(r.next_deadline() == t0 + r.master_down_interval());
}

TEST_CASE("RFC 5798 6.4.1: the address owner (priority 255) starts as master at once") {
  Router r(params(255), kSelf);
  auto out = r.start(t0);
  CHECK(r.state() == State::master);
  CHECK(sent_priority(out) == 255);
  CHECK(has(out, Kind::add_vips));
  CHECK(has(out, Kind::announce));
  CHECK(r.next_deadline() == t0 + 1s);
}

TEST_CASE("RFC 5798 6.4.2: Master_Down_Timer expiry makes the backup master") {
  Router r(params(100), kSelf);
  r.start(t0);
  CHECK(r.expire(t0 + 3s).empty());  // not yet due
  auto out = r.expire(t0 + r.master_down_interval());
  CHECK(r.state() == State::master);
  CHECK(transition(out)->reason == "master down timer expired");
  CHECK(transition(out)->cause == pgvrrpd::vrrp::Cause::master_down);
  CHECK(sent_priority(out) == 100);
  CHECK(has(out, Kind::add_vips));
  CHECK(has(out, Kind::announce));
}

TEST_CASE("RFC 5798 6.4.2: an advert from the master resets Master_Down_Timer") {
  Router r(params(100), kSelf);
  r.start(t0);
  auto later = t0 + 2s;
  CHECK(r.receive(later, advert_from(150), kLowerPeer).empty());
  CHECK(r.next_deadline() == later + r.master_down_interval());
  CHECK(r.expire(t0 + r.master_down_interval()).empty());
  CHECK(r.state() == State::backup);
}

TEST_CASE("RFC 5798 6.4.2: a priority 0 advert shortens the wait to Skew_Time") {
  Router r(params(100), kSelf);
  r.start(t0);
  r.receive(t0, advert_from(150), kLowerPeer);
  auto resign = t0 + 500ms;
  r.receive(resign, advert_from(0), kLowerPeer);
  CHECK(r.next_deadline() == resign + r.skew_time());
  auto out = r.expire(resign + r.skew_time());
  CHECK(r.state() == State::master);
  CHECK(transition(out)->reason == "master 198.51.100.11 resigned (priority 0 advert)");
  CHECK(transition(out)->cause == pgvrrpd::vrrp::Cause::master_resigned);
}

TEST_CASE("RFC 5798 6.4.2: a v3 backup learns Master_Adver_Interval from the master") {
  Router r(params(100, Centiseconds(100)), kSelf);
  r.start(t0);
  r.receive(t0, advert_from(150, Centiseconds(10)), kLowerPeer);
  CHECK(r.master_adver_interval() == Centiseconds(10));
  CHECK(r.master_down_interval() == 300ms + 60937500ns);
  CHECK(r.next_deadline() == t0 + r.master_down_interval());
}

TEST_CASE("RFC 5798 6.4.2: a zero Max Adver Int is not learned") {
  Router r(params(100, Centiseconds(100)), kSelf);
  r.start(t0);
  r.receive(t0, advert_from(150, Centiseconds(0)), kLowerPeer);
  CHECK(r.master_adver_interval() == Centiseconds(100));
}

TEST_CASE("RFC 3768 6.4.2: a v2 backup keeps its own interval") {
  Router r(params(100, Centiseconds(100), 2), kSelf);
  r.start(t0);
  r.receive(t0, advert_from(150, Centiseconds(100)), kLowerPeer);
  CHECK(r.master_down_interval() == 3s + 609375us);
}

TEST_CASE("RFC 5798 6.4.2: preempt off, a higher-priority backup accepts a lower master") {
  Router r(params(200), kSelf);
  r.start(t0);
  r.receive(t0 + 1s, advert_from(100), kLowerPeer);
  CHECK(r.next_deadline() == t0 + 1s + r.master_down_interval());
  CHECK(r.expire(t0 + 1s + r.master_down_interval() - 1ns).empty());
  CHECK(r.state() == State::backup);
}

TEST_CASE("RFC 5798 6.4.2: preempt on, a lower-priority master is ignored and preempted") {
  auto p = params(200);
  p.preempt = true;
  Router r(p, kSelf);
  r.start(t0);
  r.receive(t0 + 1s, advert_from(100), kLowerPeer);
  CHECK(r.next_deadline() == t0 + r.master_down_interval());  // not reset
  r.expire(t0 + r.master_down_interval());
  CHECK(r.state() == State::master);
}

TEST_CASE("RFC 5798 6.4.3: the master sends an advert every Advertisement_Interval") {
  Router r(params(255, Centiseconds(10)), kSelf);
  r.start(t0);
  CHECK(sent_priority(r.expire(t0 + 100ms)) == 255);
  CHECK(r.next_deadline() == t0 + 200ms);
  // A late wake-up keeps the schedule instead of drifting.
  CHECK(sent_priority(r.expire(t0 + 230ms)) == 255);
  CHECK(r.next_deadline() == t0 + 300ms);
  // After a long stall it starts afresh rather than sending a burst.
  CHECK(sent_priority(r.expire(t0 + 2s)) == 255);
  CHECK(r.next_deadline() == t0 + 2100ms);
}

TEST_CASE("RFC 5798 6.4.3: a higher-priority advert makes the master back up") {
  Router m(params(100), kSelf);
  m.start(t0);
  m.expire(t0 + m.master_down_interval());
  REQUIRE(m.state() == State::master);
  auto now = t0 + 10s;
  auto out = m.receive(now, advert_from(200, Centiseconds(50)), kLowerPeer);
  CHECK(m.state() == State::backup);
  CHECK(transition(out)->reason == "higher priority advert from 198.51.100.11 (priority 200)");
  CHECK(transition(out)->cause == pgvrrpd::vrrp::Cause::outranked);
  CHECK(has(out, Kind::remove_vips));
  // One last advert at our priority, so the winner learns a split healed.
  CHECK(sent_priority(out) == 100);
  CHECK(m.master_adver_interval() == Centiseconds(50));
  CHECK(m.next_deadline() == now + m.master_down_interval());
}

TEST_CASE("yield guard: a master with a yield blocker keeps mastership and says so once") {
  Router m(params(100), kSelf);
  m.start(t0);
  m.expire(t0 + m.master_down_interval());
  m.set_yield_blocker("its server answers as a standby");
  auto out = m.receive(t0 + 10s, advert_from(255), kLowerPeer);
  CHECK(m.state() == State::master);
  CHECK_FALSE(transition(out));
  CHECK_FALSE(has(out, Kind::remove_vips));
  REQUIRE(has(out, Kind::notice));
  CHECK(out.back().reason ==
        "not yielding to the priority 255 advert from 198.51.100.11: its server answers as a "
        "standby");
  out = m.receive(t0 + 10s + 100ms, advert_from(255), kLowerPeer);
  CHECK(out.empty());
  // Still advertising on schedule.
  CHECK(sent_priority(m.expire(t0 + 11s)) == 100);
  // Cleared: the next such advert is obeyed.
  m.set_yield_blocker(std::nullopt);
  out = m.receive(t0 + 11s + 50ms, advert_from(255), kLowerPeer);
  CHECK(m.state() == State::backup);
}

TEST_CASE("RFC 5798 6.4.3: equal priority, the greater primary address wins") {
  auto make_master = [] {
    auto r = std::make_unique<Router>(params(100), kSelf);
    r->start(t0);
    r->expire(t0 + r->master_down_interval());
    return r;
  };
  auto lower = make_master();
  auto out = lower->receive(t0 + 10s, advert_from(100), kHigherPeer);
  CHECK(lower->state() == State::backup);
  CHECK(transition(out)->reason == "equal priority advert from higher address 198.51.100.13");

  auto higher = make_master();
  out = higher->receive(t0 + 10s, advert_from(100), kLowerPeer);
  CHECK(higher->state() == State::master);
}

TEST_CASE("RFC 5798 6.4.3: a lower-priority advert leaves the master master, which re-asserts") {
  Router r(params(200), kSelf);
  r.start(t0);
  r.expire(t0 + r.master_down_interval());
  auto now = t0 + 10s + 30ms;
  auto out = r.receive(now, advert_from(100), kLowerPeer);
  CHECK(r.state() == State::master);
  CHECK_FALSE(transition(out));
  // Split healed: advertise and re-announce at once instead of next interval.
  CHECK(sent_priority(out) == 200);
  CHECK(has(out, Kind::announce));
  CHECK(r.next_deadline() == now + 1s);
}

TEST_CASE("a flood of lower-priority adverts is answered at most once per interval") {
  Router r(params(200), kSelf);
  r.start(t0);
  r.expire(t0 + r.master_down_interval());
  auto start = t0 + 10s;
  int adverts = 0, announces = 0;
  // 10,000 per second for 3 intervals (1 s each).
  for (int i = 0; i < 30000; ++i) {
    auto out = r.receive(start + i * 100us, advert_from(100), kLowerPeer);
    CHECK(r.state() == State::master);
    for (const auto& a : out) {
      adverts += a.kind == Kind::send_advert;
      announces += a.kind == Kind::announce;
    }
    for (const auto& a : r.expire(start + i * 100us)) adverts += a.kind == Kind::send_advert;
  }
  // One answer per interval, plus the regular adverts the answers reset.
  CHECK(announces == 3);
  CHECK(adverts <= 6);
  CHECK(adverts >= 3);
}

TEST_CASE("reclaim guard: a healed split's lower-priority master is answered, the clients not pulled back") {
  Router r(params(200), kSelf);
  r.start(t0);
  r.expire(t0 + r.master_down_interval());
  CHECK(r.set_reclaim_blocker(std::string("peer not asked yet")).empty());
  auto now = t0 + 10s;
  auto out = r.receive(now, advert_from(100), kLowerPeer);
  CHECK(r.state() == State::master);
  CHECK(sent_priority(out) == 200);  // the other side still learns of us
  CHECK_FALSE(has(out, Kind::announce));
  CHECK(has(out, Kind::notice));
  // Said once, not at every advert of the other side.
  out = r.receive(now + 1s + 1ms, advert_from(100), kLowerPeer);
  CHECK_FALSE(has(out, Kind::announce));
  CHECK_FALSE(has(out, Kind::notice));
  // Still held while the reason changes; cleared, the announcement goes out.
  CHECK(r.set_reclaim_blocker(std::string("peer answers as a primary too")).empty());
  out = r.set_reclaim_blocker(std::nullopt);
  CHECK(has(out, Kind::announce));
  CHECK(r.set_reclaim_blocker(std::nullopt).empty());  // once
  // Nothing is held once the router gave way (the stale side faults).
  r.set_reclaim_blocker(std::string("peer not asked yet"));
  r.receive(now + 3s, advert_from(100), kLowerPeer);
  r.set_fault(now + 3s + 10ms, "stale primary", true, "the peer is newer");
  REQUIRE(r.state() == State::fault);
  CHECK_FALSE(has(r.set_reclaim_blocker(std::nullopt), Kind::announce));
}

TEST_CASE("RFC 5798 6.4.3: the master answers a priority 0 advert at once, and re-announces") {
  Router r(params(200), kSelf);
  r.start(t0);
  r.expire(t0 + r.master_down_interval());
  auto out = r.receive(t0 + 5s, advert_from(0), kLowerPeer);
  CHECK(r.state() == State::master);
  CHECK(sent_priority(out) == 200);
  // Another master resigned (a split healed): it may have drawn the
  // clients' ARP to itself.
  CHECK(has(out, Kind::announce));
  // A flood of them gets one announcement per interval.
  out = r.receive(t0 + 5s + 10ms, advert_from(0), kLowerPeer);
  CHECK(sent_priority(out) == 200);
  CHECK_FALSE(has(out, Kind::announce));
  out = r.receive(t0 + 6s + 10ms, advert_from(0), kLowerPeer);
  CHECK(has(out, Kind::announce));
}

TEST_CASE("RFC 5798 6.4.3: shutdown of the master sends priority 0 and drops the VIPs") {
  Router r(params(200), kSelf);
  r.start(t0);
  r.expire(t0 + r.master_down_interval());
  auto out = r.shutdown(t0 + 5s);
  CHECK(r.state() == State::initialize);
  CHECK(sent_priority(out) == 0);
  CHECK(has(out, Kind::remove_vips));
  CHECK(transition(out)->reason == "shutdown");
  CHECK_FALSE(r.next_deadline());
}

TEST_CASE("RFC 5798 6.4.2: shutdown of a backup cancels Master_Down_Timer, sends nothing") {
  Router r(params(100), kSelf);
  r.start(t0);
  auto out = r.shutdown(t0 + 1s);
  CHECK(r.state() == State::initialize);
  CHECK_FALSE(has(out, Kind::send_advert));
  CHECK_FALSE(r.next_deadline());
}

TEST_CASE("RFC 5798 6.1: the owner always preempts, even with preempt off") {
  Router r(params(255), kSelf);
  r.start(t0);
  auto out = r.receive(t0 + 1s, advert_from(254), kHigherPeer);
  CHECK(r.state() == State::master);
  CHECK(sent_priority(out) == 255);
}

TEST_CASE("start-up: VIPs left by an earlier run are adopted without a gap on becoming master") {
  Router r(params(100), kSelf);
  auto out = r.start(t0, /*vips_present=*/true);
  CHECK(r.state() == State::backup);
  CHECK_FALSE(has(out, Kind::remove_vips));
  out = r.expire(t0 + r.master_down_interval());
  CHECK(r.state() == State::master);
  CHECK(has(out, Kind::add_vips));  // a refresh of the lease, not a re-add after removal
  CHECK_FALSE(has(out, Kind::remove_vips));
}

TEST_CASE("start-up: VIPs left by an earlier run are removed once another master is heard") {
  Router r(params(100), kSelf);
  r.start(t0, /*vips_present=*/true);
  auto out = r.receive(t0 + 100ms, advert_from(150), kLowerPeer);
  CHECK(has(out, Kind::remove_vips));
  // Only once.
  CHECK_FALSE(has(r.receive(t0 + 1100ms, advert_from(150), kLowerPeer), Kind::remove_vips));
}

TEST_CASE("start-up: held VIPs go when a lower-priority master is heard, even with preempt") {
  // Found by fuzz_router: with preempt the backup let a lower-priority
  // master's adverts run out its timer while keeping the VIPs that master
  // held too.
  RouterParams p = params(100);
  p.preempt = true;
  Router r(p, kSelf);
  r.start(t0, /*vips_present=*/true);
  CHECK(has(r.receive(t0 + 100ms, advert_from(50), kLowerPeer), Kind::remove_vips));
  auto out = r.expire(t0 + 100ms + r.master_down_interval());
  CHECK(r.state() == State::master);
  CHECK(has(out, Kind::add_vips));
}

TEST_CASE("start-up: held VIPs go when the takeover guard holds the takeover") {
  Router r(params(100), kSelf);
  r.start(t0, /*vips_present=*/true);
  r.set_takeover_blocker(t0, std::string("the peer's server answers as primary"));
  auto out = r.expire(t0 + r.master_down_interval());
  CHECK(r.state() == State::backup);
  CHECK(r.takeover_held());
  CHECK(has(out, Kind::remove_vips));
  out = r.set_takeover_blocker(t0 + 2s, std::nullopt);
  CHECK(r.state() == State::master);
  CHECK(has(out, Kind::add_vips));
}

TEST_CASE("start-up: a priority 0 advert does not count as a decision for held VIPs") {
  Router r(params(100), kSelf);
  r.start(t0, true);
  CHECK_FALSE(has(r.receive(t0 + 10ms, advert_from(0), kLowerPeer), Kind::remove_vips));
  auto out = r.expire(t0 + 10ms + r.skew_time());
  CHECK(r.state() == State::master);
  CHECK_FALSE(has(out, Kind::remove_vips));
}

TEST_CASE("fault: a master resigns with priority 0 and ignores adverts until cleared") {
  Router r(params(200), kSelf);
  r.start(t0);
  r.expire(t0 + r.master_down_interval());
  auto out = r.set_fault(t0 + 5s, true, "interface eth0 down");
  CHECK(r.state() == State::fault);
  CHECK(sent_priority(out) == 0);
  CHECK(has(out, Kind::remove_vips));
  CHECK(transition(out)->reason == "interface eth0 down");
  CHECK_FALSE(r.next_deadline());
  CHECK(r.receive(t0 + 6s, advert_from(100), kLowerPeer).empty());
  CHECK(r.set_fault(t0 + 6s, true, "again").empty());

  out = r.set_fault(t0 + 7s, false, "interface eth0 up");
  CHECK(r.state() == State::backup);
  CHECK(transition(out)->reason == "fault cleared: interface eth0 up");
  CHECK(r.next_deadline() == t0 + 7s + r.master_down_interval());
}

TEST_CASE("fault: set before start, the router starts in fault") {
  Router r(params(200), kSelf);
  CHECK(r.set_fault(t0, true, "interface eth0 down").empty());
  auto out = r.start(t0);
  CHECK(r.state() == State::fault);
  CHECK_FALSE(has(out, Kind::send_advert));
}

TEST_CASE("make_advert carries the configuration (RFC 5798 5.2)") {
  auto p = params(120, Centiseconds(25));
  Router r(p, kSelf);
  auto a = r.make_advert(120);
  CHECK(a.version == 3);
  CHECK(a.vrid == 51);
  CHECK(a.priority == 120);
  CHECK(a.interval == Centiseconds(25));
  CHECK(a.addresses == std::vector<IpAddress>{p.virtual_ips[0].address});
  CHECK(r.make_advert(0).priority == 0);
}

// Beyond RFC 5798, for the failover policy: several fault sources, the
// takeover guard, promote-before-VIP, effective priority.

namespace {

RouterParams gated(uint8_t priority) {
  auto p = params(priority);
  p.gate_vips_on_serving = true;
  p.serving_timeout = 5s;
  return p;
}

bool noted(const Actions& actions, std::string_view text) {
  for (const auto& a : actions)
    if (a.kind == Kind::notice && a.reason.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("takeover guard: a held backup stays backup when the master goes quiet") {
  Router r(params(100), kSelf);
  r.start(t0);
  r.set_takeover_blocker(t0, "peer PostgreSQL still answers as primary");
  auto out = r.expire(t0 + r.master_down_interval());
  CHECK(r.state() == State::backup);
  CHECK(r.takeover_held());
  CHECK_FALSE(has(out, Kind::send_advert));
  CHECK(noted(out, "takeover held: peer PostgreSQL still answers as primary"));
  CHECK_FALSE(r.next_deadline());
}

TEST_CASE("takeover guard: clearing it takes over at once") {
  Router r(params(100), kSelf);
  r.start(t0);
  r.set_takeover_blocker(t0, "lag 20 MB over max_lag");
  r.expire(t0 + r.master_down_interval());
  auto out = r.set_takeover_blocker(t0 + 5s, "lag 10 MB over max_lag");
  CHECK(r.state() == State::backup);
  CHECK(noted(out, "takeover still held: lag 10 MB"));
  out = r.set_takeover_blocker(t0 + 6s, std::nullopt);
  CHECK(r.state() == State::master);
  CHECK(transition(out)->reason == "master down timer expired, takeover guard cleared");
  CHECK(has(out, Kind::add_vips));
}

TEST_CASE("takeover guard: a master that resigned is still named when the guard clears") {
  // pg dies: the peer's check saw the old primary answer a moment ago, so
  // the priority 0 advert is held until that answer is stale.
  Router r(params(100), kSelf);
  r.start(t0);
  r.set_takeover_blocker(t0, "PostgreSQL on the peer still answers as primary");
  r.receive(t0 + 1s, advert_from(0), kLowerPeer);
  r.expire(t0 + 1s + r.skew_time());
  CHECK(r.takeover_held());
  auto out = r.set_takeover_blocker(t0 + 1s + 40ms, std::nullopt);
  CHECK(r.state() == State::master);
  CHECK(transition(out)->reason ==
        "master 198.51.100.11 resigned (priority 0 advert), takeover guard cleared");
}

TEST_CASE("takeover guard: a master heard meanwhile cancels the wish to take over") {
  Router r(params(100), kSelf);
  r.start(t0);
  r.set_takeover_blocker(t0, "local server not a streaming standby");
  r.expire(t0 + r.master_down_interval());
  auto out = r.receive(t0 + 5s, advert_from(150), kLowerPeer);
  CHECK(noted(out, "master 198.51.100.11 is back"));
  CHECK_FALSE(r.takeover_held());
  CHECK(r.set_takeover_blocker(t0 + 6s, std::nullopt).empty());
  CHECK(r.state() == State::backup);
  CHECK(r.next_deadline() == t0 + 5s + r.master_down_interval());
}

TEST_CASE("takeover guard: without a guard nothing changes (plain VRRP)") {
  Router r(params(100), kSelf);
  r.start(t0);
  CHECK(r.set_takeover_blocker(t0, std::nullopt).empty());
  r.expire(t0 + r.master_down_interval());
  CHECK(r.state() == State::master);
}

TEST_CASE("promote before the VIP: a new master advertises, then waits for the server") {
  Router r(gated(100), kSelf);
  r.start(t0);
  auto out = r.expire(t0 + r.master_down_interval());
  CHECK(r.state() == State::master);
  CHECK(sent_priority(out) == 100);  // at once, so the peer stays backup
  CHECK_FALSE(has(out, Kind::add_vips));
  CHECK_FALSE(has(out, Kind::announce));
  CHECK(r.vips_pending());
  out = r.set_serving(t0 + 5s, true);
  CHECK(has(out, Kind::add_vips));
  CHECK(has(out, Kind::announce));
  CHECK_FALSE(r.vips_pending());
}

TEST_CASE("promote before the VIP: a server already primary gets the VIPs at once") {
  Router r(gated(100), kSelf);
  r.set_serving(t0, true);
  r.start(t0);
  auto out = r.expire(t0 + r.master_down_interval());
  CHECK(has(out, Kind::add_vips));
  CHECK_FALSE(r.vips_pending());
}

TEST_CASE("promote before the VIP: no writes within serving_timeout -> FAULT, released") {
  Router r(gated(100), kSelf);
  r.start(t0);
  auto became = t0 + r.master_down_interval();
  r.expire(became);
  CHECK(r.next_deadline() <= became + 5s);
  Actions out;
  for (auto t = became; t <= became + 5s; t += 100ms) {
    auto step = r.expire(t);
    out.insert(out.end(), step.begin(), step.end());
  }
  CHECK(r.state() == State::fault);
  CHECK(sent_priority(out) == 100);  // the regular adverts while waiting
  CHECK(out.back().kind == Kind::transition);
  CHECK(out.back().reason == "local server not accepting writes 5 s after becoming master");
  bool resigned = false;
  for (const auto& a : out)
    if (a.kind == Kind::send_advert && a.priority == 0) resigned = true;
  CHECK(resigned);
  // Cleared by whoever owns the "promotion" fault source.
  out = r.set_fault(t0 + 20s, "promotion", false, "server is a standby again");
  CHECK(r.state() == State::backup);
}

TEST_CASE("promote before the VIP: leftover VIPs are released while the server is read-only") {
  Router r(gated(100), kSelf);
  r.start(t0, /*vips_present=*/true);
  auto out = r.expire(t0 + r.master_down_interval());
  CHECK(has(out, Kind::remove_vips));
  CHECK_FALSE(has(out, Kind::add_vips));
}

TEST_CASE("fault sources: FAULT while any source is faulted") {
  Router r(params(200), kSelf);
  r.start(t0);
  r.expire(t0 + r.master_down_interval());
  auto out = r.set_fault(t0 + 1s, "pg", true, "local PostgreSQL down");
  CHECK(r.state() == State::fault);
  CHECK(sent_priority(out) == 0);
  CHECK(r.set_fault(t0 + 2s, "witness", true, "gateway lost").empty());
  CHECK(r.set_fault(t0 + 3s, "pg", false, "local PostgreSQL up").empty());
  CHECK(r.state() == State::fault);
  out = r.set_fault(t0 + 4s, "witness", false, "gateway back");
  CHECK(r.state() == State::backup);
  CHECK(transition(out)->reason == "fault cleared: gateway back");
}

TEST_CASE("effective priority: adverts and Skew_Time follow it") {
  Router r(params(100), kSelf);
  r.start(t0);
  r.set_priority(150);
  CHECK(r.skew_time() == 414062500ns);
  r.expire(t0 + r.master_down_interval());
  CHECK(sent_priority(r.expire(t0 + 10s)) == 150);
  r.set_priority(90);
  CHECK(r.make_advert(r.priority()).priority == 90);
}

TEST_CASE("backup: a lower-ranked router's advert does not reset the timer of the master it follows") {
  // Found by fuzz_router: an owner advertising every 0.51 s, two others at
  // 0.1 s. One that stepped down sent its one last advert; the other backup
  // learned 0.1 s from it, timed out between the owner's adverts, took over,
  // stepped down, and so on for ever.
  Router r(params(1, Centiseconds(10)), kSelf);
  r.start(t0);
  r.receive(t0, advert_from(255, Centiseconds(51)), kHigherPeer);
  auto due = r.next_deadline();
  REQUIRE(due);
  CHECK(*due == t0 + r.master_down_interval());
  CHECK(r.master_adver_interval() == Centiseconds(51));
  // The stepping-down router's last advert, at its own priority and interval.
  CHECK(r.receive(t0 + 20ms, advert_from(1, Centiseconds(10)), kLowerPeer).empty());
  CHECK(r.next_deadline() == due);
  CHECK(r.master_adver_interval() == Centiseconds(51));
  CHECK(r.last_master() == kHigherPeer);
  // Once the master it follows has been quiet for Master_Down_Interval,
  // the other is followed.
  r.receive(t0 + r.master_down_interval() + 1ms, advert_from(2, Centiseconds(10)), kLowerPeer);
  CHECK(r.last_master() == kLowerPeer);
  CHECK(r.master_adver_interval() == Centiseconds(10));
}

TEST_CASE("backup: after the master it follows resigns, any master is followed") {
  Router r(params(1, Centiseconds(10)), kSelf);
  r.start(t0);
  r.receive(t0, advert_from(255, Centiseconds(51)), kHigherPeer);
  auto quiet = t0 + 100ms;
  // A resignation clears it: the next advert is followed whoever sends it.
  r.receive(quiet, advert_from(0, Centiseconds(51)), kHigherPeer);
  r.receive(quiet + 1ms, advert_from(2, Centiseconds(10)), kLowerPeer);
  CHECK(r.last_master() == kLowerPeer);
  CHECK(r.master_adver_interval() == Centiseconds(10));
}

TEST_CASE("transition causes: faults by their source, cleared, shutdown") {
  using pgvrrpd::vrrp::Cause;
  Router r(params(100), kSelf);
  r.start(t0);
  auto out = r.set_fault(t0, "check pg", true, "check pg failed");
  CHECK(transition(out)->cause == Cause::fault_check);
  out = r.set_fault(t0, "check pg", false, "check pg passes");
  CHECK(transition(out)->cause == Cause::fault_cleared);
  CHECK(transition(r.set_fault(t0, "link", true, "down"))->cause == Cause::fault_link);
  r.set_fault(t0, "link", false, "up");
  CHECK(transition(r.set_fault(t0, "switchover", true, "x"))->cause == Cause::fault_switchover);
  r.set_fault(t0, "switchover", false, "x");
  CHECK(transition(r.set_fault(t0, "promotion", true, "x"))->cause == Cause::fault_promotion);
  r.set_fault(t0, "promotion", false, "x");
  CHECK(transition(r.set_fault(t0, "fault", true, "x"))->cause == Cause::fault_other);
  CHECK(transition(r.shutdown(t0))->cause == Cause::shutdown);
  for (size_t i = 0; i < pgvrrpd::vrrp::kCauses; ++i)
    CHECK(pgvrrpd::vrrp::cause_name(static_cast<Cause>(i)) != "?");
}
