#include "vrrpd/policy/failover_policy.h"

#include <algorithm>

#include <fmt/format.h>

namespace pgvrrpd {

namespace {

double seconds(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count() / 1000.0;
}

// The peer's last answer says primary, on a known timeline older than the
// local server's: it is the stale side of a split.
bool peer_older_primary(const LocalPg& local, const PeerPg& peer) {
  return peer.role == PgRole::primary && local.timeline != 0 && peer.timeline != 0 &&
         peer.timeline < local.timeline;
}

}  // namespace

bool peer_answered_freshly(const PeerPg& peer, TimePoint now, const GuardParams& params) {
  return peer.last_answer_at &&
         now - *peer.last_answer_at - peer.blind_since_answer <= params.peer_fresh;
}

std::optional<std::string> takeover_blocker(const LocalPg& local, const PeerPg& peer,
                                            std::optional<TimePoint> master_quiet_since,
                                            TimePoint now, const GuardParams& params) {
  if (!local.known) return "local PostgreSQL not checked yet";
  if (!local.alive) return "local PostgreSQL is down";
  // The daemon-died case: the master's daemon is gone but its server still
  // takes writes. Promoting beside it would make two primaries.
  if (peer.role == PgRole::primary && peer_answered_freshly(peer, now, params))
    return "PostgreSQL on the peer still answers as primary";
  if (local.role == PgRole::primary) return std::nullopt;  // nothing to promote
  if (local.role != PgRole::standby) return "local PostgreSQL role unknown";
  if (!local.last_streaming_at) return "local standby has not streamed from the primary";
  if (master_quiet_since &&
      *local.last_streaming_at + params.streaming_tolerance < *master_quiet_since)
    return fmt::format("local standby stopped streaming {:.1f} s before the master went quiet",
                       seconds(*master_quiet_since - *local.last_streaming_at));
  if (params.max_lag && peer.primary_lsn && *peer.primary_lsn > local.replay_lsn &&
      *peer.primary_lsn - local.replay_lsn > *params.max_lag)
    return fmt::format("local standby is {} bytes behind the primary (max_lag {})",
                       *peer.primary_lsn - local.replay_lsn, *params.max_lag);
  return std::nullopt;
}

void RetryBackoff::failed(TimePoint now) {
  ++failures_;
  due_at_ = now + wait_;
  wait_ = std::min<Duration>(2 * wait_, kMax);
}

bool RetryBackoff::take_due(TimePoint now) {
  if (!due_at_ || now < *due_at_) return false;
  due_at_.reset();
  return true;
}

void RetryBackoff::reset() { *this = RetryBackoff{}; }

void FencePolicy::fence_finished(bool ok, TimePoint now) {
  fence_ok_ = ok;
  // Armed whatever the outcome: a "successful" stop that left the server a
  // primary is a failed fence too. evaluate() fences again only if the
  // server still answers as a primary when it is due.
  fence_retry_.failed(now);
}

void FencePolicy::rejoin_finished(bool ok, TimePoint now) {
  if (ok)
    rejoin_retry_.reset();
  else
    rejoin_retry_.failed(now);
}

std::optional<TimePoint> FencePolicy::next_retry() const {
  auto f = fence_retry_.due_at(), r = rejoin_retry_.due_at();
  if (f && r) return std::min(*f, *r);
  return f ? f : r;
}

std::optional<std::string> yield_blocker(const LocalPg& local, const PeerPg& peer, TimePoint now,
                                         const GuardParams& params) {
  if (!local.known || !local.alive || local.role != PgRole::primary) return std::nullopt;
  if (!peer_answered_freshly(peer, now, params)) {
    if (local.timeline != 0 && peer.last_primary_timeline != 0 &&
        peer.last_primary_timeline < local.timeline)
      return fmt::format("the peer's PostgreSQL does not answer now and was last seen a primary "
                         "on timeline {}, older than this one's ({}): the stale side of a split",
                         peer.last_primary_timeline, local.timeline);
    return std::nullopt;
  }
  if (peer.role == PgRole::standby)
    return "the peer's PostgreSQL answers as a standby, so its node is not master";
  if (peer_older_primary(local, peer))
    return fmt::format("the peer's PostgreSQL is a primary on timeline {}, older than this one's "
                       "({}): it is the stale side of a split",
                       peer.timeline, local.timeline);
  return std::nullopt;
}

std::optional<std::string> reclaim_blocker(const LocalPg& local, const PeerPg& peer,
                                           TimePoint now, const GuardParams& params) {
  if (!local.known || !local.alive || local.role != PgRole::primary) return std::nullopt;
  if (!peer_answered_freshly(peer, now, params))
    return "the peer's PostgreSQL has not answered lately: it may have been promoted while "
           "the nodes were apart";
  if (peer.role == PgRole::standby || peer_older_primary(local, peer)) return std::nullopt;
  if (peer.role == PgRole::primary)
    return fmt::format("the peer's PostgreSQL answers as a primary too, on timeline {} (this "
                       "one's: {})",
                       peer.timeline, local.timeline);
  return "the peer's PostgreSQL answers neither as a standby nor as a primary";
}

std::optional<std::string> stale_primary(const LocalPg& local, const PeerPg& peer, TimePoint now,
                                         const GuardParams& params) {
  if (!local.known || !local.alive || local.role != PgRole::primary || local.timeline == 0)
    return std::nullopt;
  if (peer.role != PgRole::primary || peer.timeline <= local.timeline ||
      !peer_answered_freshly(peer, now, params))
    return std::nullopt;
  // Another cluster's primary is not ours to judge (rejoin_blocker says so).
  if (local.system_identifier && peer.system_identifier &&
      *local.system_identifier != *peer.system_identifier)
    return std::nullopt;
  return fmt::format("the peer's PostgreSQL is a primary on timeline {}, newer than this one's "
                     "({}): this one is the stale side of a split",
                     peer.timeline, local.timeline);
}

std::optional<std::string> rejoin_blocker(const LocalPg& local, const PeerPg& peer) {
  if (!local.system_identifier || !peer.system_identifier ||
      *local.system_identifier == *peer.system_identifier)
    return std::nullopt;
  return fmt::format("the peer's server is another cluster (system identifier {}, this one {})",
                     *peer.system_identifier, *local.system_identifier);
}

FencePolicy::Step FencePolicy::evaluate(const vrrp::Router& router, const LocalPg& local,
                                        bool master_serving, bool hook_busy, TimePoint now,
                                        bool master_doubtful) {
  using vrrp::State;
  bool standby_again = local.known && local.alive && local.role == PgRole::standby;
  if (router.state() == State::master || standby_again) {
    // Episode over: a later stale primary gets fenced afresh.
    fenced_ = rejoined_ = false;
    fence_runs_ = 0;
    if (standby_again) rejoin_requested_ = false;
    fence_ok_.reset();
    fence_retry_.reset();
    rejoin_retry_.reset();
    return Step::none;
  }
  if (hook_busy || !router.decided()) return Step::none;
  bool primary = local.known && local.alive && local.role == PgRole::primary;
  // Still (or again) a primary once the fence's retry is due: fence again.
  if (primary && fence_retry_.take_due(now)) fenced_ = false;
  if (rejoin_retry_.take_due(now)) rejoined_ = false;
  // FAULT (this node isolated, or failing) fences whatever adverts say; a
  // backup only for a master its peer's server does not contradict.
  bool not_master = (router.state() == State::backup && !master_doubtful) ||
                    router.state() == State::fault;
  if (!fenced_ && not_master && primary) {
    fenced_ = true;
    ++fence_runs_;
    return Step::fence;
  }
  // Rejoin towards the current master (the router must have heard one: a
  // backup, not an isolated node) once the server is down: stopped by our
  // fence, or found down (it died while this node was master, or the node
  // came back with its server not started, as it should after a failover).
  bool server_down = local.known && !local.alive;
  bool fence_done = fenced_ && fence_ok_.value_or(false);
  bool wanted = auto_rejoin_ || rejoin_requested_;
  if (wanted && !rejoined_ && router.last_master() && master_serving && server_down &&
      (fence_done || !fenced_)) {
    rejoined_ = true;
    return Step::rejoin;
  }
  return Step::none;
}

}  // namespace pgvrrpd
