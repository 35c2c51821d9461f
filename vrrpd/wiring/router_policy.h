// What sits between one router's checks and hooks and its state machine:
// applies each tracked check's effect (fault or weight), feeds the failover
// policy (takeover guard, promote before the VIP, fencing) from the
// postgres check's facts, and runs the router's hooks on its transitions
// and when the policy fences or rejoins the local server.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "checkers/postgres_checker.h"
#include "notify/hook_runner.h"
#include "vrrpd/config/config.h"
#include "vrrpd/loop/event_loop_linux.h"
#include "vrrpd/policy/failover_policy.h"
#include "vrrpd/policy/switchover.h"
#include "vrrpd/policy/sync_policy.h"
#include "vrrpd/core/router.h"

namespace pgvrrpd {

class RouterPolicy {
 public:
  using Apply = std::function<void(const vrrp::Actions&)>;

  // `apply` carries out the router's actions (RouterRuntime::apply).
  RouterPolicy(EventLoop& loop, const RouterConfig& config, vrrp::Router& router, Apply apply);

  // Set-up, before the router starts. A tracked check has no verdict at
  // first; until it has one the router does not take over.
  void track(const CheckConfig& check);
  void track_link() { unknown_checks_.insert("link"); }
  // The tracked postgres check: its facts drive the guard, the VIP gate
  // and fencing. REQUIRES: track(check) was called.
  void attach_postgres(checkers::PostgresChecker& pg, const CheckConfig& check);
  void set_hooks(std::unique_ptr<notify::HookRunner> hooks);

  void on_check(const CheckConfig& check, bool passing, const std::string& reason);
  void on_link(bool up, const std::string& reason);
  // Every transition action the router returns (runs its hooks).
  void on_transition(const vrrp::Action& transition);
  // After any change: recomputes the guard, the VIP gate, fast polling and
  // fencing, and applies what follows.
  void reevaluate();

  bool hooks_idle() const { return !hooks_ || hooks_->idle(); }

  // pgvrrpctl maintenance on|off: while on, the router never becomes
  // master (a held takeover stays held, with this as its reason). Until
  // pgvrrpd restarts.
  void set_maintenance(bool on);
  bool maintenance() const { return maintenance_; }
  // pgvrrpctl promote --force: a takeover the guard holds back (a lagging
  // standby, a peer whose facts are unknown) goes ahead now. An error when
  // there is none to force: the router is not BACKUP with a held takeover,
  // or it is in maintenance.
  Status force_takeover();

  // pgvrrpctl switchover [--to ADDRESS]: hands over to the peer, with no
  // acknowledged write lost (policy/switchover.h). An error, and nothing
  // done, when the handover could lose writes or stall.
  Status start_switchover(const std::string& to);
  const Switchover& switchover() const { return switchover_; }

  // Synchronous replication (router_policy_sync.cc), for status: the
  // mode, and on the primary's node the keeper's view.
  SyncMode sync_mode() const { return sync_.mode(); }
  const SyncKeeper& sync_keeper() const { return sync_; }
  struct SyncChange {
    std::string what;  // "synchronous", "leaving", "asynchronous"
    std::string why;
    TimePoint at{};
  };
  const std::optional<SyncChange>& last_sync_change() const { return last_sync_change_; }
  uint64_t sync_changes() const { return sync_changes_; }
  // By the form applied ("synchronous", "leaving", "asynchronous").
  const std::map<std::string, uint64_t>& sync_changes_by_form() const {
    return sync_changes_by_form_;
  }
  // Why this node, as a standby, may not promote by itself for
  // synchronous replication's sake (nullopt: it may).
  std::optional<std::string> sync_blocker(TimePoint now) const;
  // What the primary's synchronous_standby_names says, as sync_setting_name
  // puts it: the local server's when it is the primary, else the last
  // reading of the peer's; "" when unknown or the mode is off.
  std::string sync_state() const;

  // The takeover guard's verdict now: why this node may not take over
  // (nullopt: it may).
  std::optional<std::string> takeover_verdict() const { return blocker(); }

  // Fencing now (pgvrrpctl status): fence runs in this episode (a retry is
  // > 1), whether a fence or rejoin is running, the next retry.
  int fence_runs() const { return fence_.fence_runs(); }
  bool fence_running() const { return fence_job_ != 0; }
  bool rejoin_running() const { return rejoin_job_ != 0; }
  std::optional<TimePoint> next_fence_retry() const { return fence_.next_retry(); }

  // The last run of each hook kind that ran (pgvrrpctl status).
  struct HookRecord {
    std::string kind;
    std::string result;  // "exited with status 0", "timed out ...", "could not start: ..."
    bool success = false;
    Duration elapsed{};
    TimePoint at{};  // when it ended
  };
  const std::vector<HookRecord>& last_hooks() const { return last_hooks_; }
  // Runs by hook kind and outcome, for the metrics file.
  const std::map<std::pair<std::string, bool>, uint64_t>& hook_runs() const {
    return hook_runs_;
  }

 private:
  std::optional<std::string> blocker() const;
  void apply_check(const CheckConfig& check, bool passing, const std::string& reason);
  void advance_switchover();
  bool holding_check() const;
  void release_held_verdict();
  void on_switchover_hook(const notify::HookResult& result);
  void update_priority();
  void run_fencing(const LocalPg& local, const PeerPg& peer);
  // On the primary's node: steps the keeper and applies what it wants.
  void keep_sync(TimePoint now);
  std::optional<SyncReading> sync_reading() const;
  void on_hook_result(const notify::HookResult& result);
  notify::HookEvent hook_event(notify::HookState state, std::string reason,
                               std::string previous) const;

  EventLoop& loop_;
  const RouterConfig& config_;
  vrrp::Router& router_;
  Apply apply_;
  std::set<std::string> unknown_checks_;     // tracked, no verdict yet
  std::map<std::string, int> weights_;       // check -> weight applied now
  checkers::PostgresChecker* pg_ = nullptr;
  GuardParams guard_;
  FencePolicy fence_;
  std::unique_ptr<notify::HookRunner> hooks_;
  uint64_t fence_job_ = 0;
  uint64_t rejoin_job_ = 0;
  uint64_t switchover_job_ = 0;
  Switchover switchover_;
  const CheckConfig* pg_check_ = nullptr;
  // The postgres check's verdict while a switchover holds the router
  // master, applied when the hold ends.
  struct HeldVerdict {
    bool passing;
    std::string reason;
  };
  std::optional<HeldVerdict> held_verdict_;
  // After a failed switchover hook, which starts the server again: the
  // held verdict (from the stop) waits this long for a fresh one, so the
  // router does not resign for a server that is back.
  std::optional<TimePoint> settle_until_;
  std::string peer_address_;  // the postgres check's peer server: address, port
  std::string peer_port_;
  bool busy_ = false;  // inside reevaluate(): no re-entry
  bool maintenance_ = false;
  bool forced_ = false;  // promote --force: the guard is overridden until the next transition
  bool missing_fence_warned_ = false;
  bool fence_doubt_logged_ = false;  // "not fencing ..." said for this stretch
  bool foreign_peer_logged_ = false;  // "will not rejoin ..." said for this stretch
  Timer guard_timer_;  // re-checks a held takeover: the peer's answers age
  Timer retry_timer_;  // runs a failed fence or rejoin again (FencePolicy)
  Timer switchover_timer_;  // the handover's deadline
  SyncKeeper sync_;
  Timer sync_timer_;  // the grace, the leaving hold, the standby's trust running out
  std::optional<SyncChange> last_sync_change_;
  uint64_t sync_changes_ = 0;
  std::map<std::string, uint64_t> sync_changes_by_form_;
  std::optional<TimePoint> sync_retry_at_;  // after a failed change of settings
  // The value last applied, until the facts show it (they follow a moment
  // later): not asked for, and logged, twice.
  std::optional<std::pair<std::string, TimePoint>> sync_applied_value_;
  // The standby's flush position as last seen, and when it last moved (or
  // was level with the primary's): a WAL sender that still says
  // "streaming" to a cut-off standby holds commits back just the same.
  FlushWatch sync_flush_{Duration::zero()};
  // A change of settings may end after this policy is gone (a reload
  // stopped the router, the check carries on): its callback checks this.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::vector<HookRecord> last_hooks_;
  std::map<std::pair<std::string, bool>, uint64_t> hook_runs_;  // (kind, success) -> runs
};

}  // namespace pgvrrpd
