// Synchronous replication on two nodes with no third machine (issue 11),
// pure: what the primary's daemon asks of its server, and whether the
// standby may promote by itself. The wiring runs the SQL and the clock.
//
// The primary's daemon names the standby in synchronous_standby_names while
// it streams within max_lag, so every commit waits for the standby's flush.
// The setting's form is also what the standby may rely on, read over its
// peer check (ALTER SYSTEM and a reload write it, in postgresql.auto.conf,
// never the operator's files; a restarted server keeps it):
//   FIRST 1 ("name")  synchronous: the standby may trust it;
//   ANY 1 ("name")    leaving: the same wait for one standby, but the name
//                     is about to be cleared: the standby must not trust it;
//   ''                asynchronous.
// Anything else is someone else's value, trusted as nothing.
//
// The race this closes: the primary drops to asynchronous, acknowledges a
// commit the standby lacks, and dies. The primary clears the name only
// after "leaving" has been applied for leaving_hold(grace) = half of
// sync_grace; the standby trusts a "synchronous" it read for that long less
// the peer check's timeout (the answer's age when it came) less a margin.
// So whatever the standby trusts, the primary had not yet acknowledged a
// commit without it: the standby saw "leaving" (and will not promote by
// itself), or the primary was still synchronous when it died, or the trust
// has run out. Only durations are compared, never two machines' clocks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vrrpd/basics/time.h"

namespace pgvrrpd {

// [router] synchronous.
enum class SyncMode { off, on, strict };
std::string_view sync_mode_name(SyncMode mode);

// What synchronous_standby_names says, read as pgvrrpd writes it.
enum class SyncSetting { off, on, leaving, foreign };
std::string_view sync_setting_name(SyncSetting setting);

struct SyncApplied {
  SyncSetting setting = SyncSetting::off;
  std::string name;  // on / leaving: the standby as written, quoted ("n2") or *
  bool operator==(const SyncApplied&) const = default;
};
SyncApplied parse_standby_names(std::string_view value);

// synchronous_standby_names for `setting` naming `name` (a quoted name or
// *); "" for off. REQUIRES: setting is not foreign.
std::string standby_names_text(SyncSetting setting, std::string_view name);
// A standby's application_name (as the primary's pg_stat_replication shows
// it) as a quoted name: any text is then a name, never list syntax.
// nullopt for an empty name or one with control characters.
std::optional<std::string> quoted_standby_name(std::string_view application_name);
// The statements that set `value` (ALTER SYSTEM, then a reload).
std::vector<std::string> standby_names_statements(std::string_view value);

// How long "leaving" stays applied before the name is cleared: half of
// sync_grace, so that a standby away for good stalls writes for sync_grace.
Duration leaving_hold(Duration grace);
// How long the standby trusts a "synchronous" it read: the hold less the
// peer check's timeout (an answer may be that old when it comes) and a
// margin for the reload reaching every session.
Duration sync_trust(Duration grace, Duration peer_timeout);
inline constexpr Duration kSyncTrustMargin = std::chrono::milliseconds(100);
// The smallest sync_grace that leaves the standby a trust spanning a check
// interval: 2 x (interval + timeout + 2 x margin). config.cc's
// min_sync_grace is the same rule.
Duration min_sync_grace(Duration check_interval, Duration check_timeout);

// The primary's side, for a router whose local server is the primary;
// fed every check round (and on every change) with what it observes.
class SyncKeeper {
 public:
  SyncKeeper(SyncMode mode, Duration grace) : mode_(mode), grace_(grace) {}

  // `standby_healthy`: the peer's WAL sender streams and the standby's
  // flush is within max_lag. `applied`: the server's setting now.
  // Returns the setting the server should have (on, leaving or off; or
  // applied.setting: nothing to change).
  SyncSetting step(TimePoint now, bool standby_healthy, const SyncApplied& applied);

  // A reload changed the mode. From on or strict to off, what this keeper
  // set is undone through leaving; a daemon started with off never touches
  // the setting.
  void set_mode(SyncMode mode);
  SyncMode mode() const { return mode_; }

  // When step() should run again even if nothing changes (the grace or the
  // hold ends); nullopt when nothing is pending.
  std::optional<TimePoint> next_deadline() const;
  bool standby_healthy() const { return healthy_; }
  std::optional<TimePoint> unhealthy_since() const { return unhealthy_since_; }

 private:
  SyncSetting leave(TimePoint now, const SyncApplied& applied) const;

  SyncMode mode_;
  Duration grace_;
  bool managing_ = false;  // on or strict since this keeper began: off undoes it
  bool healthy_ = false;
  std::optional<TimePoint> last_healthy_;
  std::optional<TimePoint> unhealthy_since_;  // first step that found it unhealthy
  std::optional<TimePoint> leaving_since_;    // "leaving" seen applied since
};

// Whether the standby's flush keeps up, from the primary's readings of its
// WAL position and the WAL sender's flush position: its WAL sender says
// "streaming" until wal_sender_timeout even when the standby has stopped
// flushing, so a flush standing still behind the WAL for `stall` counts as
// away. A level reading, or the first one behind after a level one, starts
// the count afresh: nothing waited before it. (Counting from the last
// change instead made the first commit after a quiet spell look like a
// standby stalled for the whole spell.)
class FlushWatch {
 public:
  explicit FlushWatch(Duration stall) : stall_(stall) {}
  // One reading; returns whether the flush is moving (not stalled).
  bool observe(TimePoint now, std::optional<uint64_t> flush, std::optional<uint64_t> current);
  // When the flush counts as stalled if no reading changes anything:
  // nullopt while it is level or already stalled.
  std::optional<TimePoint> stalls_at(TimePoint now) const;
  void set_stall(Duration stall) { stall_ = stall; }

 private:
  Duration stall_;
  bool level_ = true;
  std::optional<uint64_t> seen_flush_;
  TimePoint moved_at_{};
};

// What the standby last read from the primary's server (peer check).
struct SyncReading {
  SyncSetting setting = SyncSetting::off;
  TimePoint at{};  // when the answer came (the standby's clock)
};

// The standby's side: why it must not promote by itself now (nullopt: it
// may, as far as synchronous replication goes). Always nullopt with off.
std::optional<std::string> sync_promotion_blocker(SyncMode mode,
                                                  const std::optional<SyncReading>& last,
                                                  TimePoint now, Duration grace,
                                                  Duration peer_timeout);

}  // namespace pgvrrpd
