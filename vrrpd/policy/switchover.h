// A planned handover (pgvrrpctl switchover), pure: whether the master may
// hand over now, and where a running switchover stands. The wiring
// (RouterPolicy) runs the steps; see pgvrrpd(8), SWITCHOVER.
//
// The steps, on the master: the switchover hook stops the local primary
// cleanly (a fast shutdown sends all WAL to a connected standby before it
// ends) and waits until the peer's server has replayed up to the final
// checkpoint; only then does the router resign (priority 0 advert), so the
// peer, which promotes only once it holds everything, takes over after
// Skew_Time; the old primary is rejoined as the peer's standby. While the
// hook runs, the router stays master whatever the postgres check says: a
// resignation before the peer has everything would be a failover.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "vrrpd/basics/time.h"
#include "vrrpd/core/router.h"
#include "vrrpd/policy/pg_role.h"

namespace pgvrrpd {

// What the master knows when a switchover is asked for.
struct SwitchoverView {
  vrrp::State state = vrrp::State::initialize;
  bool preempt = false;
  bool hook_configured = false;   // the switchover hook
  bool postgres_tracked = false;  // a postgres check drives the router
  bool hooks_busy = false;        // a fence, rejoin or switchover runs
  std::optional<IpAddress> master;  // the master this backup hears, for the refusal
  // The local server.
  bool local_alive = false;
  PgRole local_role = PgRole::unknown;
  uint32_t local_timeline = 0;
  std::optional<uint64_t> local_lsn;  // pg_current_wal_lsn()
  std::optional<uint64_t> local_system_identifier;
  // The peer's server, as the postgres check last asked it over TCP.
  std::string peer_address;  // "" when the check has no peer_conninfo
  bool peer_fresh = false;   // it answered within the guard's freshness
  PgRole peer_role = PgRole::unknown;
  std::string peer_receiver_status;  // its WAL receiver, "streaming" when it is
  uint32_t peer_timeline = 0;
  std::optional<uint64_t> peer_replay_lsn;
  std::optional<uint64_t> peer_system_identifier;
};

// The most WAL bytes the peer may have left to replay when a switchover
// starts, without max_lag: the old primary is stopped while it catches up.
inline constexpr uint64_t kSwitchoverDefaultMaxLag = 16ull << 20;

// Why the master must not start a switchover now (nullopt: it may).
// `to`: pgvrrpctl's --to, "" when not given: it must name the peer.
// `max_lag`: the check's max_lag (nullopt: kSwitchoverDefaultMaxLag).
std::optional<std::string> switchover_refusal(const SwitchoverView& view, const std::string& to,
                                              std::optional<uint64_t> max_lag);

// Where a switchover stands.
class Switchover {
 public:
  enum class Phase {
    none,          // never asked for since the daemon started
    stopping,      // the hook stops the local primary and waits for the peer
    handing_over,  // resigned; waiting for the peer's server to be the primary
    rejoining,     // the peer serves; the old primary becomes its standby
    done,
    failed,
  };
  // How long the peer may take to serve once this node resigned: its
  // takeover (Skew_Time after the priority 0 advert) and promotion. Past
  // it, the switchover has failed (the peer's pgvrrpd not running, or in
  // maintenance): this node's server stays down, stopped cleanly.
  static constexpr Duration kHandoverTimeout = std::chrono::seconds(15);

  void start(std::string to, TimePoint now);
  // The hook ended: the peer has everything (ok) or the switchover is off.
  void stopped(bool ok, const std::string& detail, TimePoint now);
  // Facts, after every change: the peer's server answers as a primary
  // while this router is not master; the local server streams as a standby.
  void observe(bool peer_serving, bool local_streaming_standby, TimePoint now);
  // The router left master while the hook ran, or the like.
  void fail(const std::string& detail, TimePoint now);

  Phase phase() const { return phase_; }
  bool running() const {
    return phase_ == Phase::stopping || phase_ == Phase::handing_over ||
           phase_ == Phase::rejoining;
  }
  // The router must stay master whatever the postgres check says.
  bool holds_master() const { return phase_ == Phase::stopping; }
  // The router must not be master (this node handed over).
  bool handed_over() const {
    return phase_ == Phase::handing_over || phase_ == Phase::rejoining;
  }
  const std::string& to() const { return to_; }
  const std::string& detail() const { return detail_; }
  TimePoint started_at() const { return started_; }
  TimePoint changed_at() const { return changed_; }
  // When the handover times out (nullopt: not handing over).
  std::optional<TimePoint> deadline() const;
  // Writes stopped (the hook started) to the peer serving, once known.
  std::optional<Duration> handover_time() const { return handover_time_; }

 private:
  void enter(Phase phase, std::string detail, TimePoint now);

  Phase phase_ = Phase::none;
  std::string to_;
  std::string detail_;
  TimePoint started_{};
  TimePoint changed_{};
  std::optional<Duration> handover_time_;
};

const char* to_string(Switchover::Phase phase);

}  // namespace pgvrrpd
