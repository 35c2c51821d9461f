// RouterPolicy's synchronous replication (policy/sync_policy.h): on the
// primary's node the keeper's steps, applied with ALTER SYSTEM through the
// postgres check; on the standby's node the rule that holds back a
// takeover the standby cannot be sure loses nothing.
#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "vrrpd/basics/log.h"
#include "vrrpd/wiring/router_policy.h"

namespace pgvrrpd {

namespace {

// A change of settings that failed (permission denied, say) is tried again
// this much later, not at every fact.
constexpr auto kSyncRetry = std::chrono::seconds(5);
// How long the standby's flush position may stand still behind the
// primary's before the standby counts as away (its WAL sender keeps saying
// "streaming" until wal_sender_timeout).
constexpr auto kSyncFlushStall = std::chrono::seconds(1);
// How long an applied value may take to show in the facts before it is
// asked for again.
constexpr auto kSyncFactsLag = std::chrono::seconds(1);

}  // namespace

std::optional<SyncReading> RouterPolicy::sync_reading() const {
  if (!pg_) return std::nullopt;
  const auto& f = pg_->facts();
  if (!f.peer_primary_at) return std::nullopt;
  return SyncReading{parse_standby_names(f.peer_primary_sync_standby_names).setting,
                     *f.peer_primary_at};
}

std::optional<std::string> RouterPolicy::sync_blocker(TimePoint now) const {
  if (!pg_ || sync_.mode() == SyncMode::off) return std::nullopt;
  // Only a takeover that promotes the local standby can miss a commit: a
  // node whose server is the primary already (start-up) loses nothing.
  if (pg_->facts().role() != PgRole::standby) return std::nullopt;
  return sync_promotion_blocker(sync_.mode(), sync_reading(), now, config_.sync_grace,
                                pg_check_->timeout);
}

std::string RouterPolicy::sync_state() const {
  if (!pg_ || sync_.mode() == SyncMode::off) return {};
  const auto& f = pg_->facts();
  if (f.alive && f.local && f.role() == PgRole::primary)
    return std::string(sync_setting_name(parse_standby_names(f.local->sync_standby_names).setting));
  if (auto r = sync_reading()) return std::string(sync_setting_name(r->setting));
  return {};
}

void RouterPolicy::keep_sync(TimePoint now) {
  std::optional<TimePoint> wake;
  // Connected while the server has room: when the name must be cleared,
  // sessions waiting for the lost standby may hold every connection slot.
  if (sync_.mode() != SyncMode::off && !pg_->settings_open()) pg_->open_settings();
  // The standby's side: re-judge the takeover when its trust runs out (the
  // router reads the blocker when its master down timer fires).
  if (sync_.mode() != SyncMode::off)
    if (auto r = sync_reading())
      wake = r->at + sync_trust(config_.sync_grace, pg_check_->timeout) +
             std::chrono::milliseconds(1);
  const auto& f = pg_->facts();
  bool primary_here = router_.state() == vrrp::State::master && f.alive &&
                      f.role() == PgRole::primary && f.local;
  if (primary_here) {
    const auto& l = *f.local;
    uint64_t max_lag = pg_check_->max_lag_bytes.value_or(kSwitchoverDefaultMaxLag);
    sync_flush_.set_stall(std::max<Duration>(kSyncFlushStall, 2 * pg_check_->interval));
    bool moving = sync_flush_.observe(now, l.sender_flush_lsn, l.current_lsn);
    bool healthy = l.sender_state == "streaming" && l.sender_flush_lsn && l.current_lsn &&
                   *l.current_lsn - std::min(*l.current_lsn, *l.sender_flush_lsn) <= max_lag &&
                   moving;
    // Judged again when a stalled flush turns into "away": commits that
    // wait change no fact.
    if (auto t = sync_flush_.stalls_at(now)) wake = wake ? std::min(*wake, *t) : *t;
    SyncApplied applied = parse_standby_names(l.sync_standby_names);
    SyncSetting want = sync_.step(now, healthy, applied);
    bool may_try = !sync_retry_at_ || now >= *sync_retry_at_;
    // The standby by the name its WAL sender shows; one named before keeps
    // its name while it is away; * (any standby) when none was ever seen
    // (strict from the start).
    std::string name = applied.name;
    auto shown = quoted_standby_name(l.sender_name);
    if (shown) name = *shown;
    if (name.empty()) name.assign(1, '*');
    std::string value = standby_names_text(want, name);
    bool just_applied = sync_applied_value_ && sync_applied_value_->first == value &&
                        now - sync_applied_value_->second < kSyncFactsLag;
    // The right form naming another standby: a server promoted or rewound
    // inherits the name its old primary wrote (postgresql.auto.conf is
    // copied), and waits for a standby that is not there.
    bool misnamed = shown && want == applied.setting && want != SyncSetting::off &&
                    applied.name != *shown;
    if ((want != applied.setting || misnamed) && may_try && !just_applied &&
        !pg_->changing_settings()) {
      std::string why =
          misnamed ? fmt::format("the standby streams as {}, the setting names {}", *shown,
                                 applied.name)
          : healthy ? "the standby streams within max_lag"
          : sync_.mode() == SyncMode::off
              ? "synchronous = off"
              : fmt::format("the standby has been away or lagging for {:.1f} s (sync_grace {:.1f} s)",
                            std::chrono::duration<double>(
                                now - sync_.unhealthy_since().value_or(now))
                                .count(),
                            std::chrono::duration<double>(config_.sync_grace).count());
      log::info("router {}: synchronous replication ({}): {}, synchronous_standby_names = '{}': {}",
                config_.params.name, sync_mode_name(sync_.mode()), sync_setting_name(want), value,
                why);
      pg_->change_settings(
          standby_names_statements(value),
          [this, alive = std::weak_ptr<bool>(alive_), want, why, value](const Status& status,
                                                                  TimePoint at) {
            if (alive.expired()) return;
            if (!status) {
              log::warning("router {}: synchronous replication: cannot change the server's "
                           "settings: {} (tried again in {} s)",
                           config_.params.name, status.message(), kSyncRetry.count());
              sync_retry_at_ = at + kSyncRetry;
              return;
            }
            sync_retry_at_.reset();
            sync_applied_value_.emplace(value, at);
            ++sync_changes_;
            ++sync_changes_by_form_[std::string(sync_setting_name(want))];
            last_sync_change_ = SyncChange{std::string(sync_setting_name(want)), why, at};
          });
    }
    if (auto d = sync_.next_deadline()) wake = wake ? std::min(*wake, *d) : *d;
    if (sync_retry_at_ && *sync_retry_at_ > now)
      wake = wake ? std::min(*wake, *sync_retry_at_) : *sync_retry_at_;
    // Fed every check round, not only when a fact changes: an idle
    // primary's facts stand still, and the grace (from the last healthy
    // step) and the flush's stall (from the last level reading) would count
    // from before the quiet spell: its first commit would look like a
    // standby away for that long.
    if (sync_.mode() != SyncMode::off) {
      TimePoint round = now + pg_check_->interval;
      wake = wake ? std::min(*wake, round) : round;
    }
  }
  // A standby's own value is read by nobody, but a promotion makes it the
  // primary's: a name inherited from the old primary (pg_rewind and
  // pg_basebackup copy postgresql.auto.conf) would stall every commit for
  // sync_grace after a failover, waiting for a standby that is not there.
  // Only pgvrrpd's own forms are cleared; strict names one again at once.
  bool standby_here = f.alive && f.local && f.role() == PgRole::standby;
  if (standby_here && sync_.mode() != SyncMode::off) {
    SyncSetting held = parse_standby_names(f.local->sync_standby_names).setting;
    bool may_try = !sync_retry_at_ || now >= *sync_retry_at_;
    bool just_applied = sync_applied_value_ && sync_applied_value_->first.empty() &&
                        now - sync_applied_value_->second < kSyncFactsLag;
    if ((held == SyncSetting::on || held == SyncSetting::leaving) && may_try && !just_applied &&
        !pg_->changing_settings()) {
      log::info("router {}: synchronous replication: the local standby holds "
                "synchronous_standby_names = '{}' from its old primary: cleared, so that a "
                "promotion does not wait for a standby that is not there",
                config_.params.name, f.local->sync_standby_names);
      pg_->change_settings(standby_names_statements(""),
                           [this, alive = std::weak_ptr<bool>(alive_)](const Status& status,
                                                                       TimePoint at) {
                             if (alive.expired()) return;
                             if (!status) {
                               log::warning("router {}: synchronous replication: cannot clear "
                                            "the standby's setting: {} (tried again in {} s)",
                                            config_.params.name, status.message(),
                                            kSyncRetry.count());
                               sync_retry_at_ = at + kSyncRetry;
                               return;
                             }
                             sync_retry_at_.reset();
                             sync_applied_value_.emplace(std::string(), at);
                           });
    }
    if (sync_retry_at_ && *sync_retry_at_ > now)
      wake = wake ? std::min(*wake, *sync_retry_at_) : *sync_retry_at_;
  }
  if (wake && *wake > now)
    sync_timer_.arm(*wake);
  else
    sync_timer_.disarm();
}

}  // namespace pgvrrpd
