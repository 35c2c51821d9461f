// A planned handover's preconditions and phases (policy/switchover.h).
#include "vrrpd/policy/switchover.h"

#include <doctest/doctest.h>

#include "router_fixtures.h"

using namespace router_fixtures;
using pgvrrpd::IpAddress;
using pgvrrpd::PgRole;
using pgvrrpd::Switchover;
using pgvrrpd::switchover_refusal;
using pgvrrpd::SwitchoverView;
using Phase = pgvrrpd::Switchover::Phase;

namespace {

// A master whose primary is at 0/5000000 with a streaming, caught-up peer.
SwitchoverView ready() {
  SwitchoverView v;
  v.state = pgvrrpd::vrrp::State::master;
  v.hook_configured = v.postgres_tracked = true;
  v.local_alive = true;
  v.local_role = PgRole::primary;
  v.local_timeline = v.peer_timeline = 2;
  v.local_lsn = 0x5000000;
  v.local_system_identifier = v.peer_system_identifier = 7431;
  v.peer_address = "198.51.100.12";
  v.peer_fresh = true;
  v.peer_role = PgRole::standby;
  v.peer_receiver_status = "streaming";
  v.peer_replay_lsn = 0x4FFFF00;
  return v;
}

std::string refusal(const SwitchoverView& v, const std::string& to = "",
                    std::optional<uint64_t> max_lag = std::nullopt) {
  return switchover_refusal(v, to, max_lag).value_or("");
}

}  // namespace

TEST_CASE("switchover: a master with a streaming, caught-up standby may hand over") {
  CHECK_FALSE(switchover_refusal(ready(), "", std::nullopt));
  CHECK_FALSE(switchover_refusal(ready(), "198.51.100.12", std::nullopt));
}

TEST_CASE("switchover: refused, with the reason, whenever the handover could lose or stall") {
  auto v = ready();
  v.state = pgvrrpd::vrrp::State::backup;
  v.master = IpAddress::parse("198.51.100.11");
  CHECK(refusal(v) == "this node is BACKUP: run the switchover on the master's node "
                      "(198.51.100.11)");
  v = ready();
  v.state = pgvrrpd::vrrp::State::fault;
  CHECK(refusal(v) == "this node is FAULT, not MASTER: only the master hands over");
  v = ready();
  v.hook_configured = false;
  CHECK(refusal(v).find("no switchover hook") == 0);
  v = ready();
  v.postgres_tracked = false;
  CHECK(refusal(v).find("no postgres check") == 0);
  v = ready();
  v.preempt = true;
  CHECK(refusal(v).find("preempt = true") == 0);
  v = ready();
  v.hooks_busy = true;
  CHECK(refusal(v) == "a fence, rejoin or switchover hook is running");
  v = ready();
  v.local_alive = false;
  CHECK(refusal(v) == "the local server is not a running primary");
  v = ready();
  v.peer_address.clear();
  CHECK(refusal(v).find("no peer_conninfo") != std::string::npos);
  CHECK(refusal(ready(), "198.51.100.99") ==
        "--to 198.51.100.99: the peer's server is 198.51.100.12 (a pair has one peer)");
  v = ready();
  v.peer_fresh = false;
  CHECK(refusal(v) == "the peer's server (198.51.100.12) does not answer");
  v = ready();
  v.peer_role = PgRole::primary;
  CHECK(refusal(v) == "the peer's server (198.51.100.12) is not a standby but primary");
  v = ready();
  v.peer_system_identifier = 99;
  CHECK(refusal(v).find("another cluster") != std::string::npos);
  v = ready();
  v.peer_receiver_status = "";
  CHECK(refusal(v) == "the peer's standby is not streaming from this primary (WAL receiver: none)");
  v = ready();
  v.peer_timeline = 1;
  CHECK(refusal(v) == "the peer's standby is on timeline 1, this primary on 2");
  v = ready();
  v.peer_replay_lsn.reset();
  CHECK(refusal(v) == "the WAL positions are not known yet");
}

TEST_CASE("switchover: the standby's lag is bounded by max_lag, else 16 MiB") {
  auto v = ready();
  v.peer_replay_lsn = *v.local_lsn - (16u << 20);
  CHECK_FALSE(switchover_refusal(v, "", std::nullopt));
  v.peer_replay_lsn = *v.local_lsn - (16u << 20) - 1;
  CHECK(refusal(v) == "the peer's standby has replayed up to 0/3FFFFFF, 16777217 bytes behind "
                      "this primary's 0/5000000 (at most 16777216 bytes)");
  CHECK(refusal(v, "", 32u << 20) == "");
  v.peer_replay_lsn = *v.local_lsn - 2000;
  CHECK(refusal(v, "", 1000) == "the peer's standby has replayed up to 0/4FFF830, 2000 bytes "
                                "behind this primary's 0/5000000 (at most 1000 bytes, max_lag)");
  // A standby ahead of the last LSN seen (the primary moved on since) is fine.
  v.peer_replay_lsn = *v.local_lsn + 10;
  CHECK_FALSE(switchover_refusal(v, "", 1000));
}

TEST_CASE("switchover: stopping, handing over, rejoining, done") {
  Switchover s;
  CHECK(s.phase() == Phase::none);
  CHECK_FALSE(s.running());
  s.start("198.51.100.12", t0);
  CHECK(s.phase() == Phase::stopping);
  CHECK(s.holds_master());
  CHECK_FALSE(s.handed_over());
  CHECK_FALSE(s.deadline());
  // The peer cannot serve before this node resigned; facts change nothing.
  s.observe(true, false, t0 + 100ms);
  CHECK(s.phase() == Phase::stopping);
  s.stopped(true, "", t0 + 300ms);
  CHECK(s.phase() == Phase::handing_over);
  CHECK_FALSE(s.holds_master());
  CHECK(s.handed_over());
  CHECK(s.deadline() == t0 + 300ms + Switchover::kHandoverTimeout);
  s.observe(false, false, t0 + 350ms);
  CHECK(s.phase() == Phase::handing_over);
  s.observe(true, false, t0 + 450ms);
  CHECK(s.phase() == Phase::rejoining);
  CHECK(s.handover_time() == 450ms);
  CHECK(s.handed_over());
  s.observe(true, true, t0 + 3s);
  CHECK(s.phase() == Phase::done);
  CHECK_FALSE(s.running());
  CHECK(s.to() == "198.51.100.12");
  CHECK(s.changed_at() == t0 + 3s);
}

TEST_CASE("switchover: a failed hook ends it; the router is not held any more") {
  Switchover s;
  s.start("198.51.100.12", t0);
  s.stopped(false, "switchover hook exited with status 1", t0 + 5s);
  CHECK(s.phase() == Phase::failed);
  CHECK(s.detail() == "switchover hook exited with status 1");
  CHECK_FALSE(s.holds_master());
  CHECK_FALSE(s.handed_over());
  // A late result of nothing running changes nothing.
  s.stopped(true, "", t0 + 6s);
  CHECK(s.phase() == Phase::failed);
}

TEST_CASE("switchover: a peer that never serves fails the handover at the timeout") {
  Switchover s;
  s.start("198.51.100.12", t0);
  s.stopped(true, "", t0 + 1s);
  s.observe(false, false, t0 + 1s + Switchover::kHandoverTimeout - 1ms);
  CHECK(s.phase() == Phase::handing_over);
  s.observe(false, false, t0 + 1s + Switchover::kHandoverTimeout);
  CHECK(s.phase() == Phase::failed);
  CHECK(s.detail().find("did not serve within 15 s") != std::string::npos);
  CHECK_FALSE(s.handover_time());
}

TEST_CASE("switchover: fail() ends a running one only") {
  Switchover s;
  s.fail("x", t0);
  CHECK(s.phase() == Phase::none);
  s.start("198.51.100.12", t0);
  s.fail("the router left MASTER", t0 + 1s);
  CHECK(s.phase() == Phase::failed);
  CHECK(s.detail() == "the router left MASTER");
}
