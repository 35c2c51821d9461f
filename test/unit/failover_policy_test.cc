// The failover policy's takeover guard and fencing, with a fake clock.
#include "vrrpd/policy/failover_policy.h"

#include <doctest/doctest.h>

#include "router_fixtures.h"

using namespace router_fixtures;
using pgvrrpd::FencePolicy;
using pgvrrpd::GuardParams;
using pgvrrpd::LocalPg;
using pgvrrpd::PeerPg;
using pgvrrpd::PgRole;
using pgvrrpd::RetryBackoff;
using pgvrrpd::takeover_blocker;

namespace {

// A standby that streamed until 50 ms before the master went quiet at t0.
LocalPg streaming_standby() {
  LocalPg l;
  l.known = l.alive = true;
  l.role = PgRole::standby;
  l.last_streaming_at = t0 - 50ms;
  l.replay_lsn = 1'000'000;
  return l;
}

PeerPg dead_primary() {
  PeerPg p;
  p.role = PgRole::primary;
  p.last_answer_at = t0 - 100ms;
  p.primary_lsn = 1'000'100;
  return p;
}

GuardParams guard() {
  GuardParams g;
  g.max_lag = 16 * 1024 * 1024;
  return g;
}

}  // namespace

TEST_CASE("guard: a standby streaming until the master went quiet may take over") {
  CHECK_FALSE(takeover_blocker(streaming_standby(), dead_primary(), t0, t0 + 1s, guard()));
}

TEST_CASE("guard: not streaming right now is fine, the receiver stops with the primary") {
  auto local = streaming_standby();
  // Last seen streaming 50 ms before the master's last advert; it is now
  // long after: the verdict is about then, not now.
  CHECK_FALSE(takeover_blocker(local, dead_primary(), t0, t0 + 60s, guard()));
}

TEST_CASE("guard: the peer's PostgreSQL still answering as primary blocks (daemon died)") {
  auto peer = dead_primary();
  peer.last_answer_at = t0 + 900ms;
  auto why = takeover_blocker(streaming_standby(), peer, t0, t0 + 1s, guard());
  REQUIRE(why);
  CHECK(*why == "PostgreSQL on the peer still answers as primary");
  // Once its answers are stale (the whole server died), it no longer blocks.
  CHECK_FALSE(takeover_blocker(streaming_standby(), peer, t0, t0 + 1s + 500ms, guard()));
}

TEST_CASE("guard: the peer's answer does not age while this daemon was blind (stopped)") {
  // Found by the chaos soak: the backup's daemon, stopped for 3.6 s, found
  // the peer's last answer 3.6 s old on resuming and promoted beside it.
  auto peer = dead_primary();
  peer.last_answer_at = t0 + 900ms;
  peer.blind_since_answer = 3s;  // of the 3.2 s since that answer
  auto why = takeover_blocker(streaming_standby(), peer, t0, t0 + 4100ms, guard());
  REQUIRE(why);
  CHECK(*why == "PostgreSQL on the peer still answers as primary");
  // Awake for longer than peer_fresh since, and no new answer: stale.
  peer.blind_since_answer = 2s;
  CHECK_FALSE(takeover_blocker(streaming_standby(), peer, t0, t0 + 4100ms, guard()));
}

TEST_CASE("yield guard: the peer's standby answer does not age while this daemon was blind") {
  pgvrrpd::LocalPg primary;
  primary.known = primary.alive = true;
  primary.role = PgRole::primary;
  PeerPg peer;
  peer.role = PgRole::standby;
  peer.last_answer_at = t0;
  CHECK_FALSE(pgvrrpd::yield_blocker(primary, peer, t0 + 2s, guard()));
  peer.blind_since_answer = 1800ms;
  CHECK(pgvrrpd::yield_blocker(primary, peer, t0 + 2s, guard()));
}

TEST_CASE("guard: a standby that stopped streaming long before the master went quiet") {
  auto local = streaming_standby();
  local.last_streaming_at = t0 - 1h;
  auto why = takeover_blocker(local, dead_primary(), t0, t0 + 1s, guard());
  REQUIRE(why);
  CHECK(why->find("stopped streaming 3600.0 s before the master went quiet") !=
        std::string::npos);
}

TEST_CASE("guard: a standby that never streamed") {
  auto local = streaming_standby();
  local.last_streaming_at.reset();
  CHECK(takeover_blocker(local, dead_primary(), t0, t0 + 1s, guard()) ==
        "local standby has not streamed from the primary");
}

TEST_CASE("guard: lag beyond max_lag against the primary's last known LSN") {
  auto local = streaming_standby();
  auto peer = dead_primary();
  peer.primary_lsn = local.replay_lsn + 20 * 1024 * 1024;
  auto why = takeover_blocker(local, peer, t0, t0 + 1s, guard());
  REQUIRE(why);
  CHECK(*why == "local standby is 20971520 bytes behind the primary (max_lag 16777216)");
  auto unlimited = guard();
  unlimited.max_lag.reset();
  CHECK_FALSE(takeover_blocker(local, peer, t0, t0 + 1s, unlimited));
}

TEST_CASE("guard: the local server down, unknown, or of unknown role") {
  LocalPg unknown;
  CHECK(takeover_blocker(unknown, dead_primary(), t0, t0, guard()) ==
        "local PostgreSQL not checked yet");
  auto down = streaming_standby();
  down.alive = false;
  CHECK(takeover_blocker(down, dead_primary(), t0, t0, guard()) == "local PostgreSQL is down");
  auto odd = streaming_standby();
  odd.role = PgRole::unknown;
  CHECK(takeover_blocker(odd, dead_primary(), t0, t0 + 1s, guard()) ==
        "local PostgreSQL role unknown");
}

TEST_CASE("guard: a local primary with no master heard may become master (start-up)") {
  LocalPg primary;
  primary.known = primary.alive = true;
  primary.role = PgRole::primary;
  PeerPg standby_peer;
  standby_peer.role = PgRole::standby;
  standby_peer.last_answer_at = t0;
  CHECK_FALSE(takeover_blocker(primary, standby_peer, std::nullopt, t0, guard()));
}

namespace {

LocalPg primary_server() {
  LocalPg l;
  l.known = l.alive = true;
  l.role = PgRole::primary;
  return l;
}

// A backup (priority 100) that heard a master (150) at t0 + 100 ms.
Router backup_hearing_master() {
  Router r(params(100), kSelf);
  r.start(t0);
  r.receive(t0 + 100ms, advert_from(150), kLowerPeer);
  return r;
}

// The old master: FAULT from `fault_source` since start-up, hearing the new
// master kLowerPeer.
Router faulted_hearing_master(std::string_view fault_source) {
  Router r(params(150), kSelf);
  r.set_fault(t0, fault_source, true, "down");
  r.start(t0);
  r.receive(t0 + 100ms, advert_from(100), kLowerPeer);
  return r;
}

// A local server that was checked and is down.
LocalPg server_down() {
  LocalPg down;
  down.known = true;
  return down;
}

}  // namespace

TEST_CASE("fence: not before the router has decided (start-up)") {
  Router r(params(100), kSelf);
  r.start(t0);
  FencePolicy f(true);
  CHECK(f.evaluate(r, primary_server(), true, false, t0 + 1s) == FencePolicy::Step::none);
}

TEST_CASE("fence: a primary whose router heard another master is fenced, then rejoined") {
  Router r = backup_hearing_master();
  FencePolicy f(true);
  CHECK(f.evaluate(r, primary_server(), true, false, t0 + 1s) == FencePolicy::Step::fence);
  // Only once per episode, and never while a hook runs.
  CHECK(f.evaluate(r, primary_server(), true, true, t0 + 1s) == FencePolicy::Step::none);
  f.fence_finished(true, t0 + 1s);
  LocalPg stopped;
  stopped.known = true;
  CHECK(f.evaluate(r, stopped, true, false, t0 + 1s) == FencePolicy::Step::rejoin);
  CHECK(f.evaluate(r, stopped, true, false, t0 + 1s) == FencePolicy::Step::none);
  f.rejoin_finished(true, t0 + 1s);
  auto standby = primary_server();
  standby.role = PgRole::standby;
  CHECK(f.evaluate(r, standby, true, false, t0 + 1s) == FencePolicy::Step::none);
  // A new episode: fenced again.
  CHECK(f.evaluate(r, primary_server(), true, false, t0 + 1s) == FencePolicy::Step::fence);
}

TEST_CASE("fence: without auto_rejoin the fenced server stays down") {
  Router r = backup_hearing_master();
  FencePolicy f(false);
  CHECK(f.evaluate(r, primary_server(), true, false, t0 + 1s) == FencePolicy::Step::fence);
  f.fence_finished(true, t0 + 1s);
  LocalPg stopped;
  stopped.known = true;
  CHECK(f.evaluate(r, stopped, true, false, t0 + 1s) == FencePolicy::Step::none);
}

TEST_CASE("fence: a failed fence is not followed by a rejoin") {
  Router r = backup_hearing_master();
  FencePolicy f(true);
  CHECK(f.evaluate(r, primary_server(), true, false, t0 + 1s) == FencePolicy::Step::fence);
  f.fence_finished(false, t0 + 1s);
  CHECK(f.evaluate(r, primary_server(), true, false, t0 + 1s) == FencePolicy::Step::none);
  LocalPg stopped;
  stopped.known = true;
  CHECK(f.evaluate(r, stopped, true, false, t0 + 2s) == FencePolicy::Step::none);
}

TEST_CASE("fence: a fence that left the server a primary runs again, later and later") {
  Router r = backup_hearing_master();
  FencePolicy f(true);
  CHECK(f.evaluate(r, primary_server(), true, false, t0 + 1s) == FencePolicy::Step::fence);
  CHECK(f.fence_runs() == 1);
  // Failed, or "succeeded" with the server still answering as a primary.
  f.fence_finished(true, t0 + 2s);
  REQUIRE(f.next_retry());
  CHECK(*f.next_retry() == t0 + 2s + RetryBackoff::kFirst);
  CHECK(f.evaluate(r, primary_server(), true, false, t0 + 6s) == FencePolicy::Step::none);
  CHECK(f.evaluate(r, primary_server(), true, true, t0 + 7s) == FencePolicy::Step::none);
  CHECK(f.evaluate(r, primary_server(), true, false, t0 + 7s) == FencePolicy::Step::fence);
  CHECK(f.fence_runs() == 2);
  f.fence_finished(false, t0 + 8s);
  CHECK(*f.next_retry() == t0 + 8s + 2 * RetryBackoff::kFirst);
  CHECK(f.evaluate(r, primary_server(), true, false, t0 + 18s) == FencePolicy::Step::fence);
  // This one stopped it: no more fences, and the rejoin follows.
  f.fence_finished(true, t0 + 19s);
  LocalPg stopped;
  stopped.known = true;
  CHECK(f.evaluate(r, stopped, true, false, t0 + 19s) == FencePolicy::Step::rejoin);
  CHECK(f.evaluate(r, stopped, true, true, t0 + 60s) == FencePolicy::Step::none);
}

TEST_CASE("fence: a server that turns primary again after its fence is fenced again") {
  Router r = backup_hearing_master();
  FencePolicy f(false);
  CHECK(f.evaluate(r, primary_server(), true, false, t0 + 1s) == FencePolicy::Step::fence);
  f.fence_finished(true, t0 + 2s);
  LocalPg stopped;
  stopped.known = true;
  CHECK(f.evaluate(r, stopped, true, false, t0 + 10s) == FencePolicy::Step::none);
  // Someone started it again, as a primary, long after the retry was due.
  CHECK(f.evaluate(r, primary_server(), true, false, t0 + 60s) == FencePolicy::Step::fence);
  CHECK(f.fence_runs() == 2);
}

TEST_CASE("fence: an isolated master in FAULT with a primary server is fenced") {
  Router r(params(150), kSelf);
  r.start(t0);
  r.expire(t0 + r.master_down_interval());
  r.set_fault(t0 + 5s, "witness", true, "gateway lost");
  FencePolicy f(true);
  CHECK(f.evaluate(r, primary_server(), true, false, t0 + 1s) == FencePolicy::Step::fence);
  f.fence_finished(true, t0 + 1s);
  // Isolated: it never heard another master, so there is none to rejoin.
  LocalPg stopped;
  stopped.known = true;
  CHECK(f.evaluate(r, stopped, true, false, t0 + 1s) == FencePolicy::Step::none);
}

TEST_CASE("fence: the master's own primary is never fenced") {
  Router r(params(150), kSelf);
  r.start(t0);
  r.expire(t0 + r.master_down_interval());
  FencePolicy f(true);
  CHECK(f.evaluate(r, primary_server(), true, false, t0 + 1s) == FencePolicy::Step::none);
}

TEST_CASE("fence: a server found down beside a master is rejoined (failback)") {
  // The old master came back with its server not started, or its server
  // died while it was master: FAULT, but it hears the new master.
  Router r = faulted_hearing_master("check pg");
  CHECK(r.state() == State::fault);
  REQUIRE(r.last_master());
  CHECK(*r.last_master() == kLowerPeer);
  FencePolicy f(true);
  LocalPg down = server_down();
  // Not while the new master's server is still being promoted.
  CHECK(f.evaluate(r, down, false, false, t0 + 1s) == FencePolicy::Step::none);
  CHECK(f.evaluate(r, down, true, false, t0 + 1s) == FencePolicy::Step::rejoin);
  CHECK(f.evaluate(r, down, true, false, t0 + 1s) == FencePolicy::Step::none);
}

TEST_CASE("fence: a switchover's rejoin runs without auto_rejoin, once per episode") {
  Router r = faulted_hearing_master("switchover");
  FencePolicy f(false);
  LocalPg down = server_down();
  CHECK(f.evaluate(r, down, true, false, t0 + 1s) == FencePolicy::Step::none);
  f.request_rejoin();
  CHECK(f.evaluate(r, down, true, false, t0 + 1s) == FencePolicy::Step::rejoin);
  f.rejoin_finished(true, t0 + 2s);
  auto standby = down;
  standby.alive = true;
  standby.role = PgRole::standby;
  CHECK(f.evaluate(r, standby, true, false, t0 + 3s) == FencePolicy::Step::none);
  // The episode is over: a server found down later stays down again.
  CHECK(f.evaluate(r, down, true, false, t0 + 4s) == FencePolicy::Step::none);
}

TEST_CASE("fence: a server not checked yet is neither fenced nor rejoined") {
  Router r(params(150), kSelf);
  r.start(t0);
  r.receive(t0 + 100ms, advert_from(200), kLowerPeer);
  FencePolicy f(true);
  CHECK(f.evaluate(r, LocalPg{}, true, false, t0 + 1s) == FencePolicy::Step::none);
}

TEST_CASE("fence: a failed rejoin is tried again, later and later, until it works") {
  Router r = faulted_hearing_master("check pg");
  FencePolicy f(true);
  LocalPg down = server_down();
  auto t = t0 + 1s;
  CHECK(f.evaluate(r, down, true, false, t) == FencePolicy::Step::rejoin);
  f.rejoin_finished(false, t);
  REQUIRE(f.next_retry());
  CHECK(*f.next_retry() == t + RetryBackoff::kFirst);
  CHECK(f.evaluate(r, down, true, false, t + 4s) == FencePolicy::Step::none);
  // Not while another fence/rejoin hook runs, even when due.
  CHECK(f.evaluate(r, down, true, true, t + 5s) == FencePolicy::Step::none);
  CHECK(f.evaluate(r, down, true, false, t + 5s) == FencePolicy::Step::rejoin);
  CHECK(f.evaluate(r, down, true, false, t + 5s) == FencePolicy::Step::none);
  // The wait doubles after each failure, up to kRejoinMaxRetry.
  f.rejoin_finished(false, t + 6s);
  CHECK(*f.next_retry() == t + 6s + 10s);
  auto at = t + 6s;
  for (int i = 0; i < 10; ++i) {
    at = *f.next_retry();
    CHECK(f.evaluate(r, down, true, false, at) == FencePolicy::Step::rejoin);
    f.rejoin_finished(false, at);
  }
  CHECK(*f.next_retry() - at == RetryBackoff::kMax);
  // It worked: nothing pending, and a later episode starts from the first wait.
  at = *f.next_retry();
  CHECK(f.evaluate(r, down, true, false, at) == FencePolicy::Step::rejoin);
  f.rejoin_finished(true, at);
  CHECK_FALSE(f.next_retry());
  auto standby = primary_server();
  standby.role = PgRole::standby;
  CHECK(f.evaluate(r, standby, true, false, at) == FencePolicy::Step::none);
  CHECK(f.evaluate(r, down, true, false, at + 1s) == FencePolicy::Step::rejoin);
  f.rejoin_finished(false, at + 1s);
  CHECK(*f.next_retry() == at + 1s + RetryBackoff::kFirst);
}

TEST_CASE("fence: a due retry waits for the master's server to serve") {
  Router r = faulted_hearing_master("check pg");
  FencePolicy f(true);
  LocalPg down = server_down();
  CHECK(f.evaluate(r, down, true, false, t0 + 1s) == FencePolicy::Step::rejoin);
  f.rejoin_finished(false, t0 + 1s);
  CHECK(f.evaluate(r, down, false, false, t0 + 7s) == FencePolicy::Step::none);
  CHECK(f.evaluate(r, down, true, false, t0 + 8s) == FencePolicy::Step::rejoin);
}

TEST_CASE("yield guard: a healthy primary is kept while the peer's server answers as a standby") {
  GuardParams g;
  PeerPg standby_peer;
  standby_peer.role = PgRole::standby;
  standby_peer.last_answer_at = t0;
  auto reason = pgvrrpd::yield_blocker(primary_server(), standby_peer, t0 + 100ms, g);
  REQUIRE(reason);
  CHECK(*reason == "the peer's PostgreSQL answers as a standby, so its node is not master");
  // A stale answer, an unknown or unreachable peer, or a primary peer (a
  // split that healed): adverts rule.
  CHECK_FALSE(pgvrrpd::yield_blocker(primary_server(), standby_peer, t0 + g.peer_fresh + 1ms, g));
  CHECK_FALSE(pgvrrpd::yield_blocker(primary_server(), PeerPg{}, t0, g));
  auto primary_peer = standby_peer;
  primary_peer.role = PgRole::primary;
  CHECK_FALSE(pgvrrpd::yield_blocker(primary_server(), primary_peer, t0, g));
  // Nothing to keep when the local server is not a live primary.
  auto standby = primary_server();
  standby.role = PgRole::standby;
  CHECK_FALSE(pgvrrpd::yield_blocker(standby, standby_peer, t0, g));
  LocalPg down = server_down();
  CHECK_FALSE(pgvrrpd::yield_blocker(down, standby_peer, t0, g));
}

TEST_CASE("split healed: the primary on the newer timeline is kept, the older one gives way") {
  GuardParams g = guard();
  LocalPg promoted = primary_server();  // the side that took over during the split
  promoted.timeline = 3;
  promoted.system_identifier = 7;
  PeerPg old_primary;
  old_primary.role = PgRole::primary;
  old_primary.timeline = 2;
  old_primary.system_identifier = 7;
  old_primary.last_answer_at = t0;
  // The promoted side does not yield to the old side's higher priority...
  auto keep = pgvrrpd::yield_blocker(promoted, old_primary, t0 + 100ms, g);
  REQUIRE(keep);
  CHECK(*keep == "the peer's PostgreSQL is a primary on timeline 2, older than this one's (3): "
                 "it is the stale side of a split");
  CHECK_FALSE(pgvrrpd::stale_primary(promoted, old_primary, t0 + 100ms, g));
  // ...and the old side, seen from there, is the stale one.
  LocalPg old_local = primary_server();
  old_local.timeline = 2;
  old_local.system_identifier = 7;
  PeerPg promoted_peer = old_primary;
  promoted_peer.timeline = 3;
  auto stale = pgvrrpd::stale_primary(old_local, promoted_peer, t0 + 100ms, g);
  REQUIRE(stale);
  CHECK(*stale == "the peer's PostgreSQL is a primary on timeline 3, newer than this one's (2): "
                  "this one is the stale side of a split");
  CHECK_FALSE(pgvrrpd::yield_blocker(old_local, promoted_peer, t0 + 100ms, g));
  // At the heal the first advert comes before the peer can be asked: its
  // last answer as an older primary holds while it does not answer.
  PeerPg silent;
  silent.last_primary_timeline = 2;
  auto wait = pgvrrpd::yield_blocker(promoted, silent, t0 + 10s, g);
  REQUIRE(wait);
  CHECK(*wait == "the peer's PostgreSQL does not answer now and was last seen a primary on "
                 "timeline 2, older than this one's (3): the stale side of a split");
  silent.last_primary_timeline = 3;
  CHECK_FALSE(pgvrrpd::yield_blocker(promoted, silent, t0 + 10s, g));
  // Nothing is decided on a stale answer, equal or unknown timelines,
  // another cluster, or a local server that is not a live primary.
  CHECK_FALSE(pgvrrpd::stale_primary(old_local, promoted_peer, t0 + g.peer_fresh + 1ms, g));
  PeerPg same = promoted_peer;
  same.timeline = 2;
  CHECK_FALSE(pgvrrpd::stale_primary(old_local, same, t0, g));
  CHECK_FALSE(pgvrrpd::yield_blocker(old_local, same, t0, g));
  PeerPg unknown = promoted_peer;
  unknown.timeline = 0;
  CHECK_FALSE(pgvrrpd::stale_primary(old_local, unknown, t0, g));
  PeerPg other_cluster = promoted_peer;
  other_cluster.system_identifier = 8;
  CHECK_FALSE(pgvrrpd::stale_primary(old_local, other_cluster, t0, g));
  LocalPg standby = old_local;
  standby.role = PgRole::standby;
  CHECK_FALSE(pgvrrpd::stale_primary(standby, promoted_peer, t0, g));
  CHECK_FALSE(pgvrrpd::stale_primary(server_down(), promoted_peer, t0, g));
}

TEST_CASE("fence: a backup does not fence for a master its peer's server contradicts; FAULT does") {
  Router r = backup_hearing_master();
  REQUIRE(r.state() == State::backup);
  FencePolicy f(true);
  CHECK(f.evaluate(r, primary_server(), false, false, t0 + 1s, true) == FencePolicy::Step::none);
  CHECK(f.evaluate(r, primary_server(), true, false, t0 + 2s, false) == FencePolicy::Step::fence);

  Router isolated(params(150), kSelf);
  isolated.start(t0);
  isolated.expire(t0 + isolated.master_down_interval());
  isolated.set_fault(t0 + 5s, "witness", true, "gateway lost");
  FencePolicy g(true);
  CHECK(g.evaluate(isolated, primary_server(), false, false, t0 + 6s, true) ==
        FencePolicy::Step::fence);
}

TEST_CASE("rejoin: never towards another cluster (system identifiers differ)") {
  LocalPg local;
  PeerPg peer;
  CHECK_FALSE(pgvrrpd::rejoin_blocker(local, peer));  // unknown: the hook checks
  local.system_identifier = 7713381451077369570u;
  CHECK_FALSE(pgvrrpd::rejoin_blocker(local, peer));
  peer.system_identifier = 7713381451077369570u;
  CHECK_FALSE(pgvrrpd::rejoin_blocker(local, peer));
  peer.system_identifier = 7713381477156880202u;
  auto reason = pgvrrpd::rejoin_blocker(local, peer);
  REQUIRE(reason);
  CHECK(*reason == "the peer's server is another cluster (system identifier "
                   "7713381477156880202, this one 7713381451077369570)");
}

TEST_CASE("reclaim guard: a primary pulls the clients back only on the peer's fresh word") {
  GuardParams g = guard();
  LocalPg local = primary_server();
  local.timeline = 2;
  PeerPg peer;
  // At the heal: the peer has not answered since the nodes were cut.
  peer.last_answer_at = t0;
  peer.role = PgRole::unknown;
  auto wait = pgvrrpd::reclaim_blocker(local, peer, t0 + 20s, g);
  REQUIRE(wait);
  CHECK(*wait == "the peer's PostgreSQL has not answered lately: it may have been promoted "
                 "while the nodes were apart");
  // Its server was promoted meanwhile: stale_primary takes over from here.
  peer.last_answer_at = t0 + 20s;
  peer.role = PgRole::primary;
  peer.timeline = 3;
  auto newer = pgvrrpd::reclaim_blocker(local, peer, t0 + 20s + 100ms, g);
  REQUIRE(newer);
  CHECK(*newer == "the peer's PostgreSQL answers as a primary too, on timeline 3 (this one's: 2)");
  // A standby, or a primary of an older timeline: this side is the one to keep.
  peer.role = PgRole::standby;
  CHECK_FALSE(pgvrrpd::reclaim_blocker(local, peer, t0 + 20s + 100ms, g));
  peer.role = PgRole::primary;
  peer.timeline = 1;
  CHECK_FALSE(pgvrrpd::reclaim_blocker(local, peer, t0 + 20s + 100ms, g));
  // Nothing to keep when the local server is not a live primary.
  local.role = PgRole::standby;
  CHECK_FALSE(pgvrrpd::reclaim_blocker(local, PeerPg{}, t0, g));
  CHECK_FALSE(pgvrrpd::reclaim_blocker(server_down(), PeerPg{}, t0, g));
}
