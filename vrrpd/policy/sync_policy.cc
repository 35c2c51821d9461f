#include "vrrpd/policy/sync_policy.h"

#include <fmt/format.h>

namespace pgvrrpd {

std::string_view sync_mode_name(SyncMode mode) {
  switch (mode) {
    case SyncMode::off: return "off";
    case SyncMode::on: return "on";
    case SyncMode::strict: return "strict";
  }
  return "?";
}

std::string_view announcement_name(SyncAnnouncement a) {
  switch (a) {
    case SyncAnnouncement::none: return "";
    case SyncAnnouncement::on: return "on";
    case SyncAnnouncement::strict: return "strict";
    case SyncAnnouncement::leaving: return "leaving";
    case SyncAnnouncement::off: return "off";
  }
  return "?";
}

std::optional<SyncAnnouncement> parse_announcement(std::string_view text) {
  for (auto a : {SyncAnnouncement::none, SyncAnnouncement::on, SyncAnnouncement::strict,
                 SyncAnnouncement::leaving, SyncAnnouncement::off})
    if (text == announcement_name(a)) return a;
  return std::nullopt;
}

Duration leaving_hold(Duration grace) { return grace / 2; }

Duration sync_trust(Duration grace, Duration peer_timeout) {
  Duration trust = leaving_hold(grace) - peer_timeout - kSyncTrustMargin;
  return trust > Duration::zero() ? trust : Duration::zero();
}

Duration min_sync_grace(Duration check_interval, Duration check_timeout) {
  return 2 * (check_interval + check_timeout + 2 * kSyncTrustMargin);
}

SyncWanted SyncKeeper::step(TimePoint now, bool standby_healthy, const SyncApplied& applied) {
  healthy_ = standby_healthy;
  if (standby_healthy) {
    last_healthy_ = now;
    unhealthy_since_.reset();
  } else if (!unhealthy_since_) {
    unhealthy_since_ = now;
  }
  // The hold counts from when the server showed "leaving", not from when
  // it was asked: a reload takes effect a moment later.
  if (applied.announcement == SyncAnnouncement::leaving) {
    if (!leaving_since_) leaving_since_ = now;
  } else {
    leaving_since_.reset();
  }
  bool ours = applied.announcement == SyncAnnouncement::on ||
              applied.announcement == SyncAnnouncement::strict ||
              applied.announcement == SyncAnnouncement::leaving;
  bool hold_done = leaving_since_ && now - *leaving_since_ >= leaving_hold(grace_);
  // Leaves synchronous replication the only way a standby can rely on:
  // "leaving" first, the name cleared once that has held.
  auto leave = [&]() -> SyncWanted {
    if (!applied.standby_named) return {false, SyncAnnouncement::off};
    if (hold_done) return {false, SyncAnnouncement::off};
    return {true, SyncAnnouncement::leaving};
  };

  switch (mode_) {
    case SyncMode::off:
      // Only what pgvrrpd set is undone; an operator's own
      // synchronous_standby_names (no announcement) is left alone.
      if (!ours) return {applied.standby_named, applied.announcement};
      return leave();
    case SyncMode::strict:
      return {true, SyncAnnouncement::strict};
    case SyncMode::on:
      break;
  }
  if (standby_healthy) return {true, SyncAnnouncement::on};
  if (!applied.standby_named) return {false, SyncAnnouncement::off};
  if (applied.announcement == SyncAnnouncement::leaving) return leave();
  TimePoint away_since = last_healthy_ ? *last_healthy_ : *unhealthy_since_;
  if (now - away_since >= grace_ - leaving_hold(grace_)) return leave();
  return {true, SyncAnnouncement::on};
}

std::optional<TimePoint> SyncKeeper::next_deadline() const {
  if (mode_ == SyncMode::strict || healthy_) return std::nullopt;
  if (leaving_since_) return *leaving_since_ + leaving_hold(grace_);
  if (mode_ == SyncMode::on && unhealthy_since_) {
    TimePoint away_since = last_healthy_ ? *last_healthy_ : *unhealthy_since_;
    return away_since + grace_ - leaving_hold(grace_);
  }
  return std::nullopt;
}

std::optional<std::string> standby_names_value(std::string_view application_name) {
  if (application_name.empty()) return std::nullopt;
  std::string value = "\"";
  for (char c : application_name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::nullopt;
    value += c;
    if (c == '"') value += c;
  }
  return value + "\"";
}

namespace {

// An SQL string literal (standard_conforming_strings, on since 9.1:
// backslashes are plain characters).
std::string sql_literal(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    out += c;
    if (c == '\'') out += c;
  }
  return out + "'";
}

}  // namespace

std::vector<std::string> sync_statements(const SyncApplied& applied, const SyncWanted& wanted,
                                         std::string_view names) {
  std::vector<std::string> out;
  std::string set_names = fmt::format("ALTER SYSTEM SET synchronous_standby_names = {}",
                                      sql_literal(wanted.standby_named ? names : ""));
  std::string set_announcement =
      wanted.announcement == SyncAnnouncement::none
          ? std::string("ALTER SYSTEM RESET pgvrrpd.sync")
          : fmt::format("ALTER SYSTEM SET pgvrrpd.sync = {}",
                        sql_literal(announcement_name(wanted.announcement)));
  bool names_differ = applied.standby_named != wanted.standby_named;
  bool announcement_differs = applied.announcement != wanted.announcement;
  if (!names_differ && !announcement_differs) return out;
  // Naming comes first; clearing comes last.
  if (names_differ && wanted.standby_named) out.push_back(set_names);
  if (announcement_differs) out.push_back(set_announcement);
  if (names_differ && !wanted.standby_named) out.push_back(set_names);
  out.push_back("SELECT pg_reload_conf()");
  return out;
}

std::optional<std::string> sync_promotion_blocker(SyncMode mode,
                                                  const std::optional<SyncReading>& last,
                                                  TimePoint now, Duration grace,
                                                  Duration peer_timeout) {
  if (mode == SyncMode::off) return std::nullopt;
  auto seconds = [](Duration d) { return std::chrono::duration<double>(d).count(); };
  if (!last)
    return std::string("synchronous: the primary's replication mode was never read: a commit it "
                       "acknowledged may be missing here");
  switch (last->announcement) {
    case SyncAnnouncement::leaving:
      return std::string("synchronous: the primary was leaving synchronous replication (this "
                         "standby away or lagging): a commit it acknowledged may be missing here");
    case SyncAnnouncement::on:
    case SyncAnnouncement::strict:
      if (last->standby_named) break;
      [[fallthrough]];
    case SyncAnnouncement::none:
    case SyncAnnouncement::off:
      return std::string("synchronous: the primary was asynchronous at its last answer: a "
                         "commit it acknowledged may be missing here");
  }
  Duration age = now - last->at;
  Duration trust = sync_trust(grace, peer_timeout);
  if (age > trust)
    return fmt::format("synchronous: the primary last said it was synchronous {:.1f} s ago, "
                       "longer than that can be trusted ({:.1f} s): it may have left since",
                       seconds(age), seconds(trust));
  return std::nullopt;
}

}  // namespace pgvrrpd
