// Synchronous replication on two nodes with no third machine (issue 11),
// pure: what the primary's daemon asks of its server, and whether the
// standby may promote by itself. The wiring runs the SQL and the clock.
//
// The primary's daemon names the standby in synchronous_standby_names while
// it streams within max_lag, so every commit waits for the standby's flush.
// Beside it, in the custom setting pgvrrpd.sync, the daemon announces what
// the standby may rely on: "on" or "strict" while the standby is named,
// "leaving" before the name is cleared, "off" once it is. Both are set with
// ALTER SYSTEM and a reload (postgresql.auto.conf, never the operator's
// files), so a restarted server keeps them.
//
// The race the announcement closes: the primary drops to asynchronous,
// acknowledges a commit the standby lacks, and dies. The standby reads the
// announcement from the primary with its peer check. The primary clears the
// name only after "leaving" has been applied for kLeavingHold(grace) = half
// of sync_grace; the standby trusts an "on" or "strict" it read for that
// long minus the peer check's timeout (the answer's age when it came) minus
// a margin. So whatever the standby trusts, the primary had not yet
// acknowledged a commit without it: either the standby saw "leaving" (and
// will not promote by itself), or the primary was still synchronous when it
// died, or the trust had expired. Each step holds for the primary's clock
// and the standby's alike: only durations are compared, never times of two
// machines.
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

// pgvrrpd.sync on the primary, as the daemon sets it and the standby reads it.
enum class SyncAnnouncement { none, on, strict, leaving, off };
std::string_view announcement_name(SyncAnnouncement a);  // "" for none
// The setting's text ("" when unset) -> the value; nullopt when it is
// something pgvrrpd never writes (someone else's value: trusted as nothing).
std::optional<SyncAnnouncement> parse_announcement(std::string_view text);

// How long "leaving" stays applied before the name is cleared: half of
// sync_grace, so that a standby that is away for good stalls writes for
// sync_grace in all.
Duration leaving_hold(Duration grace);
// How long the standby trusts an "on" or "strict" it read: the hold less
// the peer check's timeout (an answer may be that old when it comes) and a
// margin for the reload reaching every session.
Duration sync_trust(Duration grace, Duration peer_timeout);
inline constexpr Duration kSyncTrustMargin = std::chrono::milliseconds(100);
// The smallest sync_grace that leaves the standby a trust spanning a check
// interval (else a healthy standby could find its last reading expired
// between two): 2 x (interval + timeout + 2 x margin).
Duration min_sync_grace(Duration check_interval, Duration check_timeout);

// What the primary's server runs with now, from its own answer.
struct SyncApplied {
  bool standby_named = false;  // synchronous_standby_names is not empty
  SyncAnnouncement announcement = SyncAnnouncement::none;
  bool operator==(const SyncApplied&) const = default;
};

// What the daemon wants the server to run with.
struct SyncWanted {
  bool standby_named = false;
  SyncAnnouncement announcement = SyncAnnouncement::none;
  bool operator==(const SyncWanted&) const = default;
};

// The primary's side. One per router whose local server is the primary;
// fed every check round (and on every change) with what it observes.
class SyncKeeper {
 public:
  SyncKeeper(SyncMode mode, Duration grace) : mode_(mode), grace_(grace) {}

  // `standby_healthy`: the peer's WAL sender streams and the standby's
  // flush is within max_lag. `applied`: the server's answer.
  // Returns what the server should run with; the wiring applies it when it
  // differs from `applied` (and says so in the log).
  SyncWanted step(TimePoint now, bool standby_healthy, const SyncApplied& applied);

  // A reload changed the mode: to off (or strict to on) goes through
  // leaving like a standby that went away.
  void set_mode(SyncMode mode) { mode_ = mode; }
  SyncMode mode() const { return mode_; }

  // When step() should run again even if nothing changes (the grace or the
  // hold ends); nullopt when nothing is pending.
  std::optional<TimePoint> next_deadline() const;
  // For status: how the standby looks from here, and since when.
  bool standby_healthy() const { return healthy_; }
  std::optional<TimePoint> unhealthy_since() const { return unhealthy_since_; }

 private:
  SyncMode mode_;
  Duration grace_;
  bool healthy_ = false;
  std::optional<TimePoint> last_healthy_;
  std::optional<TimePoint> unhealthy_since_;  // first step that found it unhealthy
  std::optional<TimePoint> leaving_since_;    // "leaving" seen applied since
};

// synchronous_standby_names naming one standby by its application_name
// (as the primary's pg_stat_replication shows it): a double-quoted name,
// so that any text is a name and never list syntax. nullopt for a name
// with control characters (someone else's odd client: not named).
std::optional<std::string> standby_names_value(std::string_view application_name);

// The statements that take the server from `applied` to `wanted`, then a
// reload; empty when they agree. In the order that never lets the
// announcement promise more than the setting gives: the name before "on"
// or "strict", "leaving" or "off" before the name is cleared. `names`:
// synchronous_standby_names when the standby is named.
std::vector<std::string> sync_statements(const SyncApplied& applied, const SyncWanted& wanted,
                                         std::string_view names);

// What the standby last read from the primary's server (peer check).
struct SyncReading {
  bool standby_named = false;
  SyncAnnouncement announcement = SyncAnnouncement::none;
  TimePoint at{};  // when the answer came (the standby's clock)
};

// The standby's side: why it must not promote by itself now (nullopt: it
// may, as far as synchronous replication goes). With mode off the answer
// is always nullopt.
std::optional<std::string> sync_promotion_blocker(SyncMode mode,
                                                  const std::optional<SyncReading>& last,
                                                  TimePoint now, Duration grace,
                                                  Duration peer_timeout);

}  // namespace pgvrrpd
