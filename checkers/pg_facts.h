// The PostgreSQL facts the failover policy judges by: one query
// (kFactsQuery) answers them for a server in one round trip, on the local
// server and on the peer's; PgFacts keeps both, the last known values with
// the time they were observed, and the lag derived from them. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "checkers/pg_connection.h"
#include "vrrpd/basics/ip_address.h"
#include "vrrpd/basics/result.h"
#include "vrrpd/policy/pg_role.h"
#include "vrrpd/basics/time.h"

namespace pgvrrpd::checkers {

// The policy's type; named here too for the checkers' users.
using ::pgvrrpd::PgRole;

// Runs on primaries and standbys (PostgreSQL 13+). The role needs
// pg_monitor (pg_stat_wal_receiver details, pg_control_*()). Without a
// standby address the sender_* columns are NULL.
extern const char* const kFactsQuery;
// kFactsQuery that also reports the WAL sender to `standby` (the primary's
// pg_stat_replication row from that address): the local server's query
// names the peer. `standby` is an address, written as an SQL literal.
std::string facts_query(const std::optional<IpAddress>& standby);

// One server's answer to kFactsQuery.
struct PgServerState {
  PgRole role = PgRole::unknown;  // pg_is_in_recovery()
  uint64_t system_identifier = 0;  // pg_control_system()
  // The server's current timeline, 0 when unknown. Primary: the timeline WAL
  // is being inserted on, from pg_walfile_name(pg_current_wal_lsn()) (exact
  // at once after promotion; pg_control_checkpoint() lags until the next
  // checkpoint). Standby: pg_stat_wal_receiver.received_tli while a WAL
  // receiver runs, else the last checkpoint's (restartpoint's) timeline, a
  // lower bound; PgFacts keeps the last received_tli seen.
  uint32_t timeline = 0;
  uint32_t checkpoint_timeline = 0;          // pg_control_checkpoint()
  std::optional<uint64_t> current_lsn;       // primary: pg_current_wal_lsn()
  std::optional<uint64_t> receive_lsn;       // pg_last_wal_receive_lsn(): flushed by the receiver
  std::optional<uint64_t> replay_lsn;        // pg_last_wal_replay_lsn()
  // Standby: 0 when everything received is replayed, else how old the last
  // replayed transaction is (server clock minus the primary's commit time).
  std::optional<double> replay_lag_seconds;
  std::string receiver_status;               // pg_stat_wal_receiver.status, "" when none runs
  uint32_t receiver_timeline = 0;            // pg_stat_wal_receiver.received_tli
  // The primary's WAL end as the sender last reported it (latest_end_lsn).
  std::optional<uint64_t> receiver_latest_end_lsn;
  // Synchronous replication (policy/sync_policy.h): the server's
  // synchronous_standby_names.
  std::string sync_standby_names;
  // Primary: its WAL sender to the standby the query names, "" / nullopt
  // when none runs: pg_stat_replication's state, sync_state, flush_lsn.
  std::string sender_state;
  std::string sender_name;  // its application_name
  std::string sender_sync_state;
  std::optional<uint64_t> sender_flush_lsn;
};

// "16/B374D848" -> 0x16B374D848; nullopt when malformed.
std::optional<uint64_t> parse_lsn(std::string_view text);
std::string format_lsn(uint64_t lsn);

// Reads the first row of a kFactsQuery answer (columns by name).
Result<PgServerState> parse_server_state(const PgResult& result);

struct PgFacts {
  // -- the local server
  bool alive = false;      // its last answer came, and no failure since
  TimePoint alive_changed_at{};
  std::string error;       // the last failure, while !alive
  std::optional<PgServerState> local;  // the last answer, kept while !alive
  TimePoint local_at{};                // when it came
  // The local current timeline (see PgServerState::timeline), standby: at
  // least the last received_tli seen.
  uint32_t timeline = 0;
  bool streaming = false;  // the last answer showed the WAL receiver streaming
  // The last answer that showed it streaming (the receiver stops as soon as
  // the primary dies, so the policy judges by this).
  std::optional<TimePoint> last_streaming_at;

  // -- the peer's server (on its real IP); unreachable is a fact, not a failure
  bool peer_configured = false;
  bool peer_alive = false;
  TimePoint peer_alive_changed_at{};  // peer down (or up) since
  std::string peer_error;
  std::optional<PgServerState> peer;  // its last answer, kept while it is down
  TimePoint peer_at{};
  // The last time the peer was seen as a primary: its LSN and timeline then.
  std::optional<uint64_t> peer_primary_lsn;
  uint32_t peer_primary_timeline = 0;
  std::optional<TimePoint> peer_primary_at;
  // Its synchronous_standby_names then.
  std::string peer_primary_sync_standby_names;

  // -- derived while the local server is a standby (see derive_lag)
  std::optional<uint64_t> primary_lsn;  // best known primary position (a lower bound)
  std::optional<uint64_t> receive_lag_bytes;
  std::optional<uint64_t> replay_lag_bytes;
  std::optional<double> replay_lag_seconds;
  bool lag_exceeded = false;  // receive_lag_bytes > max_lag_bytes

  PgRole role() const { return local ? local->role : PgRole::unknown; }
  PgRole peer_role() const { return peer ? peer->role : PgRole::unknown; }
};

// What changed between two PgFacts (a bit set).
enum PgChange : uint32_t {
  kChangeAlive = 1u << 0,
  kChangeRole = 1u << 1,
  kChangeTimeline = 1u << 2,
  kChangeStreaming = 1u << 3,
  kChangeLsn = 1u << 4,  // any local LSN or the derived lag
  kChangePeerAlive = 1u << 5,
  kChangePeerRole = 1u << 6,
  kChangePeerLsn = 1u << 7,  // the peer's LSNs or timeline
  // Synchronous replication: either server's settings, the local WAL
  // sender to the peer (state, flush position).
  kChangeSync = 1u << 8,
};
uint32_t diff(const PgFacts& before, const PgFacts& after);

// Fills primary_lsn and the lag fields from the rest. primary_lsn is the
// larger of the peer's current LSN (when last seen as primary) and the WAL
// receiver's latest_end_lsn: both are past observations of a position that
// only grows, so the larger is the better lower bound. Lags are clamped at 0.
// REQUIRES: nothing; leaves them empty unless the local server is a standby.
void derive_lag(PgFacts& facts, std::optional<uint64_t> max_lag_bytes);

}  // namespace pgvrrpd::checkers
