// The PostgreSQL failover policy, pure: from what the checkers know about
// the local and the peer's server, decide whether a backup may take over
// (the takeover guard) and when a node must fence its server and rejoin.
// See "Failover policy" in pgvrrpd(8).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "vrrpd/core/router.h"
#include "vrrpd/policy/pg_role.h"
#include "vrrpd/basics/time.h"

namespace pgvrrpd {

// The local server as the postgres check last saw it.
struct LocalPg {
  bool known = false;  // the check has had at least one answer
  bool alive = false;
  PgRole role = PgRole::unknown;
  // The last time the WAL receiver was seen streaming. The receiver stops
  // as soon as the primary dies, so "streaming right now" would block every
  // real failover: the policy judges by this instead.
  std::optional<TimePoint> last_streaming_at;
  uint64_t replay_lsn = 0;
  // pg_control's, from the last answer (kept while the server is down).
  std::optional<uint64_t> system_identifier;
  uint32_t timeline = 0;  // the last answer's current timeline, 0 when unknown
};

// The peer's server, asked over its real IP.
struct PeerPg {
  PgRole role = PgRole::unknown;
  std::optional<TimePoint> last_answer_at;  // last successful query
  // How much of that answer's age the daemon's loop spent blind (stopped,
  // or stuck in a callback): nobody asked then, so that part of its age
  // says nothing about the peer.
  Duration blind_since_answer{};
  // The peer's current LSN, last seen while it was primary (a dead primary
  // cannot be asked: this is the cache the lag is measured against).
  std::optional<uint64_t> primary_lsn;
  std::optional<uint64_t> system_identifier;  // from its last answer
  uint32_t timeline = 0;  // its last answer's current timeline, 0 when unknown
  // The timeline of the last answer that said primary, however old (kept
  // while the peer does not answer); 0 when never seen a primary.
  uint32_t last_primary_timeline = 0;
};

struct GuardParams {
  // A standby counts as "streaming until the primary went quiet" if it was
  // seen streaming at most this long before the master's last advert.
  Duration streaming_tolerance = std::chrono::seconds(2);
  // The peer counts as answering only if it answered this recently, not
  // counting the time the loop was blind.
  Duration peer_fresh = std::chrono::milliseconds(500);
  // Most WAL bytes the standby may be behind the primary's last known LSN;
  // nullopt: no limit.
  std::optional<uint64_t> max_lag;
};

// The peer answered within params.peer_fresh, not counting the time the
// loop was blind.
bool peer_answered_freshly(const PeerPg& peer, TimePoint now, const GuardParams& params);

// Why a backup must not become master now, or nullopt when it may.
// `master_quiet_since`: when the master was last heard (nullopt: never).
std::optional<std::string> takeover_blocker(const LocalPg& local, const PeerPg& peer,
                                            std::optional<TimePoint> master_quiet_since,
                                            TimePoint now, const GuardParams& params);

// The yield guard: the reason a healthy master must not give up its primary
// to an advert that outranks it, or a backup fence its primary for one,
// nullopt when adverts may be obeyed. VRRP adverts carry no proof of origin;
// the peer's server, asked over TCP on its real IP, does: while it answers
// (freshly) as a standby, an advert claiming its node is master is forged
// or stale. Unknown or unreachable says nothing: adverts rule then.
// It also holds when the peer's server answers (freshly) as a primary on an
// older timeline than the local primary's: after a split that a promotion
// ended (the nodes cut from each other, each still serving clients), the
// promoted side is the newer one, and the one the clients were sent to. The
// split's first advert comes before the peer's server can be asked again:
// while it does not answer, its last answer as a primary on an older
// timeline holds too.
std::optional<std::string> yield_blocker(const LocalPg& local, const PeerPg& peer, TimePoint now,
                                         const GuardParams& params);

// The reclaim guard: why a master whose server is a primary must not
// announce the VIPs to the clients when it hears a lower-priority master,
// nullopt when it may. That advert means the nodes were apart (the nodes
// cut from each other, each still reaching its witness) and hear each other
// again; the other side may have been promoted meanwhile, and the clients
// sent to it. Only a fresh answer of the peer's server says this side is
// the one to keep: as a standby, or as a primary on an older timeline.
// Otherwise the clients stay where they are until stale_primary (below)
// or the peer's giving way settles it: pulling them back first would have
// this server acknowledge writes that the promoted side never gets.
std::optional<std::string> reclaim_blocker(const LocalPg& local, const PeerPg& peer,
                                           TimePoint now, const GuardParams& params);

// The other side of that rule: why the local primary is the stale side of a
// split and must give way (its router goes FAULT, the server is fenced and,
// with auto_rejoin, rewound from the peer's), nullopt when it is not: the
// peer's server answers freshly as a primary of the same cluster on a newer
// timeline. Equal or unknown timelines say nothing: VRRP decides.
std::optional<std::string> stale_primary(const LocalPg& local, const PeerPg& peer, TimePoint now,
                                         const GuardParams& params);

// Why the local server must not be rejoined to the peer's, nullopt when it
// may: a rejoin rewinds or re-copies from the peer, which must then be the
// same cluster (system identifier). Unknown on either side says nothing:
// the shipped rejoin hook checks again against the server it copies from.
std::optional<std::string> rejoin_blocker(const LocalPg& local, const PeerPg& peer);

// When a hook that failed may run again: kFirst after the first failure,
// doubling up to kMax; reset() when what it was for is done.
class RetryBackoff {
 public:
  static constexpr Duration kFirst = std::chrono::seconds(5);
  static constexpr Duration kMax = std::chrono::minutes(5);

  void failed(TimePoint now);
  // True once, when the retry is due.
  bool take_due(TimePoint now);
  void reset();
  std::optional<TimePoint> due_at() const { return due_at_; }
  int failures() const { return failures_; }

 private:
  std::optional<TimePoint> due_at_;
  Duration wait_ = kFirst;
  int failures_ = 0;
};

// Fencing: a server that is primary while its router is not master (an old
// primary that came back and heard the current master, an isolated node in
// FAULT) must stop accepting writes: the fence hook stops it. With
// auto_rejoin the rejoin hook then makes a stopped server (fenced, or found
// down beside a master) a standby of the current master. An episode ends
// when the server is a standby again or the router becomes master.
//
// Hooks fail: a fence whose server still answers as a primary when it
// finished (failed, killed at hook_timeout, or a stop command that did not
// stop it) is run again while that lasts, and a rejoin that failed (the
// master unreachable for a moment, a copy cut short) while the server stays
// down beside a serving master, each on its RetryBackoff: left alone, a
// stale primary would keep taking writes on its real IP, or the node would
// stay out of the pair until an operator came.
class FencePolicy {
 public:
  enum class Step { none, fence, rejoin };

  explicit FencePolicy(bool auto_rejoin) : auto_rejoin_(auto_rejoin) {}

  // Called after every change of router state or server facts; returns the
  // hook to start now. `master_serving`: the master's server answers as a
  // primary (a rejoin copies from it, so it waits for the promotion to
  // finish). `hook_busy`: a fence/rejoin hook is still running.
  // `master_doubtful`: the master the router heard is contradicted by the
  // peer's server (yield_blocker): a backup does not fence for it.
  Step evaluate(const vrrp::Router& router, const LocalPg& local, bool master_serving,
                bool hook_busy, TimePoint now, bool master_doubtful = false);
  void fence_finished(bool ok, TimePoint now);
  void rejoin_finished(bool ok, TimePoint now);
  // The hook never ran (superseded by a transition): try again.
  void fence_dropped() { fenced_ = false; }
  void rejoin_dropped() { rejoined_ = false; }
  // The earliest pending retry (nullopt: none), for the caller to
  // evaluate() again then; it may be past (a fence retry waits for the
  // server to be a primary again).
  std::optional<TimePoint> next_retry() const;
  // Fence runs in this episode, the first included (a retry is > 1).
  int fence_runs() const { return fence_runs_; }
  // Rejoin in this episode even without auto_rejoin: a switchover stopped
  // the server to make it the new primary's standby.
  void request_rejoin() { rejoin_requested_ = true; }

 private:
  bool auto_rejoin_;
  bool rejoin_requested_ = false;  // request_rejoin(), until the episode ends
  bool fenced_ = false;     // fence started in this episode
  bool rejoined_ = false;   // rejoin started in this episode
  int fence_runs_ = 0;
  std::optional<bool> fence_ok_;
  RetryBackoff fence_retry_;
  RetryBackoff rejoin_retry_;
};

}  // namespace pgvrrpd
