// The router's hooks for the failover policy, beyond RFC 5798: several fault
// sources, the takeover guard, promote-before-VIP, effective priority.
#include <doctest/doctest.h>

#include "router_fixtures.h"

using namespace router_fixtures;

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
