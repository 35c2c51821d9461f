#include "vrrpd/wiring/router_policy.h"

#include <algorithm>

#include "checkers/conninfo_libpq.h"
#include "vrrpd/basics/log.h"

namespace pgvrrpd {

namespace {

SyncMode sync_mode_of(RouterConfig::Synchronous mode) {
  switch (mode) {
    case RouterConfig::Synchronous::off: return SyncMode::off;
    case RouterConfig::Synchronous::on: return SyncMode::on;
    case RouterConfig::Synchronous::strict: return SyncMode::strict;
  }
  return SyncMode::off;
}

// How often a held takeover is re-judged: the peer's last answer ages even
// when no fact changes (a dead server answers nothing at all).
constexpr auto kGuardRecheck = std::chrono::milliseconds(20);

notify::HookState hook_state(vrrp::State state) {
  switch (state) {
    case vrrp::State::master: return notify::HookState::master;
    case vrrp::State::backup: return notify::HookState::backup;
    case vrrp::State::fault: return notify::HookState::fault;
    case vrrp::State::initialize: return notify::HookState::stop;
  }
  return notify::HookState::stop;
}

// The policy's view of what the postgres check knows.
LocalPg local_view(const checkers::PgFacts& facts) {
  LocalPg l;
  l.known = facts.local.has_value() || !facts.error.empty();
  l.alive = facts.alive;
  l.role = facts.alive ? facts.role() : PgRole::unknown;
  l.last_streaming_at = facts.last_streaming_at;
  if (facts.local && facts.local->replay_lsn) l.replay_lsn = *facts.local->replay_lsn;
  if (facts.local && facts.local->system_identifier != 0)
    l.system_identifier = facts.local->system_identifier;
  if (facts.alive && facts.local) l.timeline = facts.local->timeline;
  return l;
}

PeerPg peer_view(const checkers::PgFacts& facts, const EventLoop& loop) {
  PeerPg p;
  if (facts.peer_alive && facts.peer) {
    p.role = facts.peer->role;
    p.timeline = facts.peer->timeline;
    p.last_answer_at = facts.peer_at;
    p.blind_since_answer = loop.blind_since(facts.peer_at);
  }
  // The best known primary position: the peer's own LSN while it was
  // primary, or what our WAL receiver last heard from it.
  p.primary_lsn = facts.primary_lsn;
  p.last_primary_timeline = facts.peer_primary_timeline;
  if (facts.peer && facts.peer->system_identifier != 0)
    p.system_identifier = facts.peer->system_identifier;
  if (facts.peer_primary_lsn && (!p.primary_lsn || *facts.peer_primary_lsn > *p.primary_lsn))
    p.primary_lsn = facts.peer_primary_lsn;
  return p;
}

}  // namespace

RouterPolicy::RouterPolicy(EventLoop& loop, const RouterConfig& config, vrrp::Router& router,
                           Apply apply)
    : loop_(loop),
      config_(config),
      router_(router),
      apply_(std::move(apply)),
      fence_(config.hooks.auto_rejoin),
      guard_timer_(loop, [this] { reevaluate(); }),
      retry_timer_(loop, [this] { reevaluate(); }),
      switchover_timer_(loop, [this] { reevaluate(); }),
      sync_(sync_mode_of(config.synchronous), config.sync_grace),
      sync_timer_(loop, [this] { reevaluate(); }) {}

void RouterPolicy::track(const CheckConfig& check) { unknown_checks_.insert(check.name); }

void RouterPolicy::attach_postgres(checkers::PostgresChecker& pg, const CheckConfig& check) {
  pg_ = &pg;
  pg_check_ = &check;
  auto peer = checkers::conninfo_server(check.peer_conninfo);
  peer_address_ = peer.address;
  peer_port_ = peer.port;
  // The peer counts as answering while its answers are fresher than two
  // check intervals; a standby as streaming until the master went quiet if
  // it streamed within a few intervals of that moment.
  guard_.peer_fresh = 2 * check.interval + std::chrono::milliseconds(50);
  guard_.streaming_tolerance = std::max<Duration>(std::chrono::seconds(2), 3 * check.interval);
  guard_.max_lag = check.max_lag_bytes;
}

void RouterPolicy::set_hooks(std::unique_ptr<notify::HookRunner> hooks) {
  hooks_ = std::move(hooks);
  hooks_->set_listener([this](const notify::HookResult& r) { on_hook_result(r); });
}

void RouterPolicy::on_check(const CheckConfig& check, bool passing, const std::string& reason) {
  unknown_checks_.erase(check.name);
  log::info("check {} {} for router {}: {}", check.name, passing ? "passes" : "fails",
            config_.params.name, reason);
  if (&check == pg_check_ && holding_check()) {
    if (passing && !switchover_.holds_master()) {
      // The failed switchover's hook started the server again.
      held_verdict_.reset();
      settle_until_.reset();
    } else {
      // The switchover hook is stopping the server on purpose: resigning
      // now would hand over before the peer has replayed everything.
      held_verdict_ = HeldVerdict{passing, reason};
      log::info("router {}: switchover: stays master until the peer has replayed everything",
                config_.params.name);
      return;
    }
  }
  apply_check(check, passing, reason);
}

bool RouterPolicy::holding_check() const {
  return switchover_.holds_master() || (settle_until_ && loop_.now() < *settle_until_);
}

void RouterPolicy::release_held_verdict() {
  settle_until_.reset();
  if (!held_verdict_ || !pg_check_) return;
  auto held = std::move(*held_verdict_);
  held_verdict_.reset();
  apply_check(*pg_check_, held.passing, held.reason);
}

void RouterPolicy::apply_check(const CheckConfig& check, bool passing, const std::string& reason) {
  auto now = loop_.now();
  if (check.effect == CheckEffect::weight) {
    // keepalived's rule: a positive weight counts while the check passes, a
    // negative one while it fails.
    bool applies = check.weight > 0 ? passing : !passing;
    weights_[check.name] = applies ? check.weight : 0;
    update_priority();
  } else {
    apply_(router_.set_fault(now, "check " + check.name, !passing,
                             passing ? fmt::format("check {} passes", check.name)
                                     : fmt::format("check {} failed: {}", check.name, reason)));
  }
  reevaluate();
}

void RouterPolicy::on_link(bool up, const std::string& reason) {
  unknown_checks_.erase("link");
  apply_(router_.set_fault(loop_.now(), "link", !up,
                           up ? fmt::format("interface {} up", config_.interface)
                              : fmt::format("interface {} down: {}", config_.interface, reason)));
  reevaluate();
}

void RouterPolicy::update_priority() {
  int base = config_.params.priority;
  if (base == vrrp::kOwnerPriority) return;  // the owner's priority is fixed
  int sum = base;
  for (auto& [name, weight] : weights_) sum += weight;
  router_.set_priority(static_cast<uint8_t>(std::clamp(sum, 1, 254)));
}

std::optional<std::string> RouterPolicy::blocker() const {
  if (maintenance_) return std::string("maintenance mode (pgvrrpctl maintenance off ends it)");
  if (forced_) return std::nullopt;
  if (!unknown_checks_.empty())
    return fmt::format("check {} has no verdict yet", *unknown_checks_.begin());
  if (!pg_) return std::nullopt;
  if (auto sync = sync_blocker(loop_.now())) return sync;
  const auto& facts = pg_->facts();
  return takeover_blocker(local_view(facts), peer_view(facts, loop_), router_.last_master_heard(),
                          loop_.now(), guard_);
}

void RouterPolicy::set_maintenance(bool on) {
  if (on == maintenance_) return;
  maintenance_ = on;
  if (on)
    log::warning("router {}: maintenance mode on (pgvrrpctl): this node will not become master",
                 config_.params.name);
  else
    log::info("router {}: maintenance mode off (pgvrrpctl): this node may become master again",
              config_.params.name);
  reevaluate();
}

Status RouterPolicy::force_takeover() {
  if (maintenance_)
    return Status::error("maintenance mode is on: turn it off first (pgvrrpctl maintenance off)");
  if (router_.state() != vrrp::State::backup || !router_.takeover_held())
    return Status::error(fmt::format(
        "no takeover to force: the router is {}{}", vrrp::state_name(router_.state()),
        router_.state() == vrrp::State::backup
            ? " and a master is heard (a planned handover is pgvrrpctl switchover, run on "
              "the master's node)"
            : ""));
  auto reason = blocker();
  log::warning("router {}: takeover forced (pgvrrpctl promote --force) against the takeover "
               "guard: {}",
               config_.params.name, reason.value_or("nothing"));
  forced_ = true;
  reevaluate();
  return Status::success();
}

void RouterPolicy::reevaluate() {
  if (busy_) return;
  busy_ = true;
  auto now = loop_.now();
  advance_switchover();
  if (pg_) {
    auto local = local_view(pg_->facts());
    apply_(router_.set_serving(now, local.alive && local.role == PgRole::primary));
    // A promotion that never finished faulted the router; once the server
    // is a healthy standby again (rejoined) the node is eligible again.
    if (local.alive && local.role == PgRole::standby)
      apply_(router_.set_fault(now, "promotion", false, "local server is a standby again"));
    // The stale side of a healed split gives way to the promoted one, its
    // priority notwithstanding: FAULT fences its server, which ends this.
    auto stale = stale_primary(local, peer_view(pg_->facts(), loop_), now, guard_);
    apply_(router_.set_fault(now, "stale primary", stale.has_value(),
                             stale ? *stale : "the local server is not a stale primary"));
  }
  apply_(router_.set_takeover_blocker(now, blocker()));
  if (pg_) {
    auto local = local_view(pg_->facts());
    auto peer = peer_view(pg_->facts(), loop_);
    router_.set_yield_blocker(yield_blocker(local, peer, now, guard_));
    apply_(router_.set_reclaim_blocker(reclaim_blocker(local, peer, now, guard_)));
  }
  if (pg_) {
    // While a promotion is pending, learn "out of recovery" within ~5 ms.
    pg_->set_fast_poll(router_.vips_pending());
    run_fencing(local_view(pg_->facts()), peer_view(pg_->facts(), loop_));
    keep_sync(now);
  }
  if (router_.takeover_held())
    guard_timer_.arm(now + kGuardRecheck);
  else
    guard_timer_.disarm();
  // A retry already due waits for its condition (say, the server a primary
  // again), which the checks' next facts bring: no timer in the past.
  auto retry = fence_.next_retry();
  if (retry && *retry > now)
    retry_timer_.arm(*retry);
  else
    retry_timer_.disarm();
  if (auto deadline = switchover_.deadline())
    switchover_timer_.arm(*deadline);
  else if (settle_until_)
    switchover_timer_.arm(*settle_until_);
  else
    switchover_timer_.disarm();
  busy_ = false;
}

Status RouterPolicy::start_switchover(const std::string& to) {
  SwitchoverView v;
  v.state = router_.state();
  v.preempt = config_.params.preempt;
  v.hook_configured = !config_.hooks.switchover.empty();
  v.postgres_tracked = pg_ != nullptr;
  v.hooks_busy = fence_job_ || rejoin_job_ || switchover_job_ || switchover_.running();
  v.master = router_.last_master();
  v.peer_address = peer_address_;
  std::optional<uint64_t> max_lag;
  if (pg_) {
    const auto& f = pg_->facts();
    max_lag = pg_check_->max_lag_bytes;
    v.local_alive = f.alive;
    v.local_role = f.role();
    v.local_timeline = f.timeline;
    if (f.local) {
      v.local_lsn = f.local->current_lsn;
      if (f.local->system_identifier) v.local_system_identifier = f.local->system_identifier;
    }
    v.peer_fresh =
        f.peer_alive && peer_answered_freshly(peer_view(f, loop_), loop_.now(), guard_);
    if (f.peer) {
      v.peer_role = f.peer->role;
      v.peer_receiver_status = f.peer->receiver_status;
      v.peer_timeline = f.peer->timeline;
      v.peer_replay_lsn = f.peer->replay_lsn;
      if (f.peer->system_identifier) v.peer_system_identifier = f.peer->system_identifier;
    }
  }
  if (auto refusal = switchover_refusal(v, to, max_lag)) return Status::error(*refusal);
  auto now = loop_.now();
  switchover_.start(peer_address_, now);
  log::warning("router {}: switchover to {} (pgvrrpctl): stopping the local primary; this node "
               "stays master until the peer has replayed all of it",
               config_.params.name, peer_address_);
  switchover_job_ = hooks_->run_hook(notify::HookKind::switchover,
                                     hook_event(notify::HookState::master, "switchover", "MASTER"));
  if (!switchover_job_) {
    switchover_.fail("the switchover hook could not be queued", now);
    return Status::error("the switchover hook could not be queued");
  }
  return Status::success();
}

// Moves a running switchover on from the facts, and keeps the router
// where the phase wants it.
void RouterPolicy::advance_switchover() {
  if (settle_until_ && loop_.now() >= *settle_until_) release_held_verdict();
  if (!switchover_.running()) return;
  auto now = loop_.now();
  auto before = switchover_.phase();
  if (switchover_.holds_master() && router_.state() != vrrp::State::master) {
    switchover_.fail(fmt::format("the router left MASTER while the switchover hook ran ({})",
                                 vrrp::state_name(router_.state())),
                     now);
  } else if (pg_) {
    const auto& f = pg_->facts();
    bool peer_serving = router_.state() != vrrp::State::master && f.peer_alive && f.peer &&
                        f.peer->role == PgRole::primary;
    bool streaming = f.alive && f.role() == PgRole::standby && f.streaming;
    switchover_.observe(peer_serving, streaming, now);
  }
  auto after = switchover_.phase();
  if (after == before) return;
  if (after == Switchover::Phase::rejoining) {
    log::info("router {}: switchover: {} ({:.3f} s after it started)", config_.params.name,
              switchover_.detail(),
              std::chrono::duration<double>(*switchover_.handover_time()).count());
  } else if (after == Switchover::Phase::done) {
    log::info("router {}: switchover done: {}", config_.params.name, switchover_.detail());
    apply_(router_.set_fault(now, "switchover", false, "switchover done"));
  } else if (after == Switchover::Phase::failed) {
    log::error("router {}: switchover failed: {}", config_.params.name, switchover_.detail());
    apply_(router_.set_fault(now, "switchover", false, "switchover failed"));
  }
  if (!holding_check() && held_verdict_) release_held_verdict();
}

void RouterPolicy::on_switchover_hook(const notify::HookResult& r) {
  using Outcome = notify::HookResult::Outcome;
  switchover_job_ = 0;
  auto now = loop_.now();
  if (!r.success()) {
    std::string why = r.outcome == Outcome::superseded ? "superseded by a transition"
                      : r.outcome == Outcome::spawn_failed
                          ? "could not start: " + r.error
                      : r.outcome == Outcome::timed_out ? "timed out: " + r.status.describe()
                                                        : r.status.describe();
    switchover_.stopped(false,
                        fmt::format("switchover hook {} (its log says why; the local server is "
                                    "back as the primary if the hook could restart it)",
                                    why),
                        now);
    log::error("router {}: switchover failed: {}", config_.params.name, switchover_.detail());
  } else {
    // The server is stopped cleanly: it is to be the master's standby,
    // whoever that is by now.
    fence_.request_rejoin();
    switchover_.stopped(true, "", now);
    if (switchover_.phase() == Switchover::Phase::handing_over) {
      log::warning("router {}: switchover: {}", config_.params.name, switchover_.detail());
      // Resign (priority 0 advert): the peer takes over after Skew_Time.
      // FAULT until the old primary streams from the new one, so this node
      // cannot take the VIP back meanwhile.
      apply_(router_.set_fault(now, "switchover", true,
                               fmt::format("switchover: handing over to {}", switchover_.to())));
    } else {
      // It had failed already (the router left MASTER while the hook ran):
      // nothing to resign, and no fault that nothing would clear.
      log::warning("router {}: the switchover hook stopped the local server after the "
                   "switchover had failed ({}); it is left to the rejoin",
                   config_.params.name, switchover_.detail());
    }
  }
  if (!r.success() && held_verdict_ && !held_verdict_->passing &&
      router_.state() == vrrp::State::master) {
    // A few check rounds for the restarted server to be seen.
    settle_until_ = now + std::max<Duration>(std::chrono::seconds(2),
                                             3 * pg_check_->interval + pg_check_->timeout);
    if (pg_) pg_->poll_now();
    return;
  }
  release_held_verdict();
}

void RouterPolicy::run_fencing(const LocalPg& local, const PeerPg& peer) {
  bool busy = (fence_job_ || rejoin_job_ || switchover_job_);
  auto doubt = yield_blocker(local, peer, loop_.now(), guard_);
  bool backup_with_primary = router_.state() == vrrp::State::backup && local.alive &&
                             local.role == PgRole::primary;
  if (doubt && backup_with_primary && !fence_doubt_logged_) {
    fence_doubt_logged_ = true;
    log::warning("router {}: not fencing the local primary for master {}: {}",
                 config_.params.name,
                 router_.last_master() ? router_.last_master()->to_string() : "?", *doubt);
  } else if (!backup_with_primary) {
    fence_doubt_logged_ = false;
  }
  auto foreign = rejoin_blocker(local, peer);
  if (foreign && !foreign_peer_logged_) {
    foreign_peer_logged_ = true;
    log::error("router {}: will not rejoin the local server to the peer's: {}",
               config_.params.name, *foreign);
  } else if (!foreign) {
    foreign_peer_logged_ = false;
  }
  auto step = fence_.evaluate(router_, local, peer.role == PgRole::primary && !foreign, busy,
                              loop_.now(), doubt.has_value());
  if (step == FencePolicy::Step::none) return;
  auto state = hook_state(router_.state());
  if (step == FencePolicy::Step::fence) {
    if (fence_.fence_runs() > 1)
      log::error("router {}: local PostgreSQL is still a primary while the router is {}: "
                 "fencing it again (attempt {})",
                 config_.params.name, vrrp::state_name(router_.state()), fence_.fence_runs());
    else
      log::warning("router {}: local PostgreSQL is a primary while the router is {}: fencing it",
                   config_.params.name, vrrp::state_name(router_.state()));
    if (hooks_) fence_job_ = hooks_->run_hook(notify::HookKind::fence,
                                              hook_event(state, "fence", ""));
    if (!fence_job_ && !missing_fence_warned_) {
      missing_fence_warned_ = true;
      log::error("router {}: no fence hook configured: two servers may accept writes",
                 config_.params.name);
    }
    return;
  }
  log::info("router {}: rejoining the local server as a standby of {}", config_.params.name,
            router_.last_master() ? router_.last_master()->to_string() : "?");
  if (hooks_) rejoin_job_ = hooks_->run_hook(notify::HookKind::rejoin,
                                             hook_event(state, "rejoin", ""));
}

void RouterPolicy::on_hook_result(const notify::HookResult& r) {
  using Outcome = notify::HookResult::Outcome;
  if (r.outcome != Outcome::superseded) {
    HookRecord record;
    record.kind = std::string(notify::hook_kind_name(r.kind));
    record.success = r.success();
    record.elapsed = r.elapsed;
    record.at = loop_.now();
    switch (r.outcome) {
      case Outcome::exited: record.result = r.status.describe(); break;
      case Outcome::timed_out: record.result = "timed out, killed: " + r.status.describe(); break;
      case Outcome::spawn_failed: record.result = "could not start: " + r.error; break;
      case Outcome::superseded: break;
    }
    ++hook_runs_[{record.kind, record.success}];
    auto same = std::find_if(last_hooks_.begin(), last_hooks_.end(),
                             [&](const HookRecord& h) { return h.kind == record.kind; });
    if (same != last_hooks_.end())
      *same = std::move(record);
    else
      last_hooks_.push_back(std::move(record));
  }
  if (r.kind == notify::HookKind::switchover && r.transition == switchover_job_) {
    on_switchover_hook(r);
  } else if (r.kind == notify::HookKind::fence && r.transition == fence_job_) {
    fence_job_ = 0;
    if (r.outcome == Outcome::superseded)
      fence_.fence_dropped();
    else
      fence_.fence_finished(r.success(), loop_.now());
  } else if (r.kind == notify::HookKind::rejoin && r.transition == rejoin_job_) {
    rejoin_job_ = 0;
    if (r.outcome == Outcome::superseded) {
      fence_.rejoin_dropped();
    } else {
      fence_.rejoin_finished(r.success(), loop_.now());
      if (!r.success())
        log::warning("router {}: rejoin failed ({}): trying again later if the server is "
                     "still down beside a serving master",
                     config_.params.name, r.status.describe());
    }
  } else if (r.kind == notify::HookKind::on_master && !r.success() &&
             r.outcome != Outcome::superseded && router_.vips_pending()) {
    // The promotion failed: give up now instead of at hook_timeout.
    apply_(router_.set_fault(loop_.now(), "promotion", true,
                             fmt::format("on_master hook failed ({})", r.status.describe())));
  }
  if (pg_) pg_->poll_now();  // a hook changes the server: look at once
  reevaluate();
}

notify::HookEvent RouterPolicy::hook_event(notify::HookState state, std::string reason,
                                           std::string previous) const {
  notify::HookEvent e;
  e.state = state;
  e.previous_state = std::move(previous);
  e.reason = std::move(reason);
  e.priority = router_.priority();
  e.peer = peer_address_;
  if (!peer_address_.empty()) e.peer_port = peer_port_;
  for (const auto& vip : config_.params.virtual_ips) e.vips.push_back(vip.to_string());
  if (router_.state() == vrrp::State::master)
    e.master = router_.primary_address().to_string();
  else if (router_.last_master())
    e.master = router_.last_master()->to_string();
  if (pg_) {
    const auto& facts = pg_->facts();
    if (facts.alive && facts.local) {
      e.pg.role = to_string(facts.role());
      if (facts.timeline) e.pg.timeline = facts.timeline;
      auto lsn = facts.local->current_lsn ? facts.local->current_lsn : facts.local->replay_lsn;
      if (lsn) e.pg.lsn = checkers::format_lsn(*lsn);
      if (facts.replay_lag_bytes) e.pg.lag_bytes = static_cast<int64_t>(*facts.replay_lag_bytes);
    }
  }
  e.sync.mode = sync_mode_name(sync_.mode());
  e.sync.state = sync_state();
  e.sync.changes = sync_changes_;
  if (auto b = sync_blocker(loop_.now())) e.sync.blocker = *b;
  return e;
}

void RouterPolicy::on_transition(const vrrp::Action& t) {
  forced_ = false;
  if (!hooks_) return;
  hooks_->transition(hook_event(hook_state(t.to), t.reason, std::string(vrrp::state_name(t.from))));
}

}  // namespace pgvrrpd
