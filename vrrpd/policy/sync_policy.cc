#include "vrrpd/policy/sync_policy.h"

#include <fmt/format.h>

namespace pgvrrpd {

namespace {

constexpr std::string_view kOnPrefix = "FIRST 1 (";
constexpr std::string_view kLeavingPrefix = "ANY 1 (";

// `*`, or a double-quoted name whose inner quotes are doubled.
bool valid_name(std::string_view name) {
  if (name == "*") return true;
  if (name.size() < 3 || name.front() != '"' || name.back() != '"') return false;
  std::string_view inner = name.substr(1, name.size() - 2);
  for (size_t i = 0; i < inner.size(); ++i) {
    if (static_cast<unsigned char>(inner[i]) < 0x20) return false;
    if (inner[i] != '"') continue;
    if (i + 1 >= inner.size() || inner[i + 1] != '"') return false;
    ++i;
  }
  return true;
}

// An SQL string literal (standard_conforming_strings, on since 9.1:
// backslashes are plain characters).
std::string sql_literal(std::string_view text) {
  std::string out(1, '\'');
  for (char c : text) {
    out.push_back(c);
    if (c == '\'') out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

}  // namespace

std::string_view sync_mode_name(SyncMode mode) {
  switch (mode) {
    case SyncMode::off: return "off";
    case SyncMode::on: return "on";
    case SyncMode::strict: return "strict";
  }
  return "?";
}

std::string_view sync_setting_name(SyncSetting setting) {
  switch (setting) {
    case SyncSetting::off: return "asynchronous";
    case SyncSetting::on: return "synchronous";
    case SyncSetting::leaving: return "leaving";
    case SyncSetting::foreign: return "not pgvrrpd's";
  }
  return "?";
}

SyncApplied parse_standby_names(std::string_view value) {
  if (value.empty()) return {SyncSetting::off, ""};
  for (auto [prefix, setting] : {std::pair{kOnPrefix, SyncSetting::on},
                                 std::pair{kLeavingPrefix, SyncSetting::leaving}}) {
    if (value.size() <= prefix.size() || value.substr(0, prefix.size()) != prefix ||
        value.back() != ')')
      continue;
    std::string_view name = value.substr(prefix.size(), value.size() - prefix.size() - 1);
    if (valid_name(name)) return {setting, std::string(name)};
  }
  return {SyncSetting::foreign, ""};
}

std::string standby_names_text(SyncSetting setting, std::string_view name) {
  switch (setting) {
    case SyncSetting::on: return fmt::format("{}{})", kOnPrefix, name);
    case SyncSetting::leaving: return fmt::format("{}{})", kLeavingPrefix, name);
    case SyncSetting::off:
    case SyncSetting::foreign: break;
  }
  return "";
}

std::optional<std::string> quoted_standby_name(std::string_view application_name) {
  if (application_name.empty()) return std::nullopt;
  std::string quoted(1, '"');
  for (char c : application_name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::nullopt;
    quoted.push_back(c);
    if (c == '"') quoted.push_back(c);
  }
  quoted.push_back('"');
  return quoted;
}

std::vector<std::string> standby_names_statements(std::string_view value) {
  return {"ALTER SYSTEM SET synchronous_standby_names = " + sql_literal(value),
          "SELECT pg_reload_conf()"};
}

Duration leaving_hold(Duration grace) { return grace / 2; }

Duration sync_trust(Duration grace, Duration peer_timeout) {
  Duration trust = leaving_hold(grace) - peer_timeout - kSyncTrustMargin;
  return trust > Duration::zero() ? trust : Duration::zero();
}

Duration min_sync_grace(Duration check_interval, Duration check_timeout) {
  return 2 * (check_interval + check_timeout + 2 * kSyncTrustMargin);
}

void SyncKeeper::set_mode(SyncMode mode) {
  mode_ = mode;
  if (mode != SyncMode::off) managing_ = true;
}

SyncSetting SyncKeeper::leave(TimePoint now, const SyncApplied& applied) const {
  if (applied.setting == SyncSetting::off) return SyncSetting::off;
  if (leaving_since_ && now - *leaving_since_ >= leaving_hold(grace_)) return SyncSetting::off;
  return SyncSetting::leaving;
}

SyncSetting SyncKeeper::step(TimePoint now, bool standby_healthy, const SyncApplied& applied) {
  if (mode_ != SyncMode::off) managing_ = true;
  healthy_ = standby_healthy;
  if (standby_healthy) {
    last_healthy_ = now;
    unhealthy_since_.reset();
  } else if (!unhealthy_since_) {
    unhealthy_since_ = now;
  }
  // The hold counts from when the server showed "leaving", not from when
  // it was asked: a reload takes effect a moment later.
  if (applied.setting == SyncSetting::leaving) {
    if (!leaving_since_) leaving_since_ = now;
  } else {
    leaving_since_.reset();
  }
  switch (mode_) {
    case SyncMode::off:
      if (!managing_) return applied.setting;
      return leave(now, applied);
    case SyncMode::strict:
      return SyncSetting::on;
    case SyncMode::on:
      break;
  }
  if (standby_healthy) return SyncSetting::on;
  if (applied.setting == SyncSetting::off) return SyncSetting::off;
  if (applied.setting == SyncSetting::leaving) return leave(now, applied);
  TimePoint away_since = last_healthy_ ? *last_healthy_ : *unhealthy_since_;
  if (now - away_since >= grace_ - leaving_hold(grace_)) return leave(now, applied);
  return applied.setting == SyncSetting::foreign ? SyncSetting::on : applied.setting;
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

bool FlushWatch::observe(TimePoint now, std::optional<uint64_t> flush,
                         std::optional<uint64_t> current) {
  bool level = flush && current && *flush >= *current;
  if (level || level_ || flush != seen_flush_) moved_at_ = now;
  level_ = level;
  seen_flush_ = flush;
  return now - moved_at_ < stall_;
}

std::optional<TimePoint> FlushWatch::stalls_at(TimePoint now) const {
  if (level_ || now - moved_at_ >= stall_) return std::nullopt;
  return moved_at_ + stall_;
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
  switch (last->setting) {
    case SyncSetting::on:
      break;
    case SyncSetting::leaving:
      return std::string("synchronous: the primary was leaving synchronous replication (this "
                         "standby away or lagging): a commit it acknowledged may be missing here");
    case SyncSetting::off:
      return std::string("synchronous: the primary was asynchronous at its last answer: a "
                         "commit it acknowledged may be missing here");
    case SyncSetting::foreign:
      return std::string("synchronous: the primary's synchronous_standby_names is not one "
                         "pgvrrpd wrote: a commit it acknowledged may be missing here");
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
