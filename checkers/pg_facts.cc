#include "checkers/pg_facts.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

namespace pgvrrpd::checkers {

// pg_is_in_recovery() is read once (OFFSET 0 keeps the subquery from being
// flattened into the CASEs), so a promotion between two calls cannot make
// the columns disagree or call pg_walfile_name() during recovery.
// pg_walfile_name() names the segment with the WAL insertion timeline
// (PostgreSQL 15: GetWALInsertionTimeLine()); its first 8 hex digits are it.
namespace {

// kFactsQuery around the standby's address (an SQL inet expression).
std::string facts_query_text(std::string_view standby_inet) {
  return fmt::format(R"sql(SELECT s.in_recovery,
  (SELECT system_identifier FROM pg_control_system()) AS system_identifier,
  CASE WHEN NOT s.in_recovery THEN pg_current_wal_lsn() END AS current_lsn,
  CASE WHEN NOT s.in_recovery THEN
    ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint
  END AS insert_timeline,
  pg_last_wal_receive_lsn() AS receive_lsn,
  pg_last_wal_replay_lsn() AS replay_lsn,
  CASE WHEN s.in_recovery THEN
    CASE WHEN pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn() THEN 0
    ELSE greatest(0, extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()))
    END
  END AS replay_lag_seconds,
  (SELECT timeline_id FROM pg_control_checkpoint()) AS checkpoint_timeline,
  r.status AS receiver_status,
  r.received_tli AS receiver_timeline,
  r.latest_end_lsn AS receiver_latest_end_lsn,
  current_setting('synchronous_standby_names') AS sync_standby_names,
  w.state AS sender_state,
  w.application_name AS sender_name,
  w.sync_state AS sender_sync_state,
  w.flush_lsn AS sender_flush_lsn
FROM (SELECT pg_is_in_recovery() AS in_recovery OFFSET 0) s
LEFT JOIN pg_stat_wal_receiver r ON true
LEFT JOIN LATERAL (SELECT state, application_name, sync_state, flush_lsn
  FROM pg_stat_replication
  WHERE client_addr = {} ORDER BY state = 'streaming' DESC LIMIT 1) w ON true)sql",
                     standby_inet);
}

}  // namespace

const char* const kFactsQuery = [] {
  static const std::string text = facts_query_text("NULL::inet");
  return text.c_str();
}();

std::string facts_query(const std::optional<IpAddress>& standby) {
  // An IpAddress prints digits, dots, colons and hex only: safe in quotes.
  return facts_query_text(standby ? fmt::format("'{}'::inet", standby->to_string())
                                  : std::string("NULL::inet"));
}

namespace {

template <typename T>
std::optional<T> parse_number(std::string_view text, int base = 10) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

class Row {
 public:
  explicit Row(const PgResult& result) : result_(result) {}

  // nullptr for SQL NULL; sets missing_ for an unknown column.
  const std::string* get(std::string_view column) {
    for (size_t i = 0; i < result_.columns.size(); ++i) {
      if (result_.columns[i] != column) continue;
      // A row shorter than the column list is a broken answer, not a NULL.
      if (i >= result_.rows[0].size()) {
        problems_.push_back(fmt::format("no value for column {}", column));
        return nullptr;
      }
      const auto& cell = result_.rows[0][i];
      return cell ? &*cell : nullptr;
    }
    problems_.push_back(fmt::format("no column {}", column));
    return nullptr;
  }

  template <typename T>
  T number(std::string_view column) {
    const std::string* text = get(column);
    if (!text) return T{};
    auto value = parse_number<T>(*text);
    if (!value) problems_.push_back(fmt::format("{} is not a number: {:?}", column, *text));
    return value.value_or(T{});
  }

  std::optional<uint64_t> lsn(std::string_view column) {
    const std::string* text = get(column);
    if (!text) return std::nullopt;
    auto value = parse_lsn(*text);
    if (!value) problems_.push_back(fmt::format("{} is not an LSN: {:?}", column, *text));
    return value;
  }

  std::optional<double> seconds(std::string_view column) {
    const std::string* text = get(column);
    if (!text) return std::nullopt;
    char* end = nullptr;
    double value = std::strtod(text->c_str(), &end);
    // strtod also reads "nan", "inf" and "1e999": no lag a server reports.
    if (end == text->c_str() || *end || !std::isfinite(value)) {
      problems_.push_back(fmt::format("{} is not a number: {:?}", column, *text));
      return std::nullopt;
    }
    return value;
  }

  const std::vector<std::string>& problems() const { return problems_; }

 private:
  const PgResult& result_;
  std::vector<std::string> problems_;
};

}  // namespace

std::optional<uint64_t> parse_lsn(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos || slash > 8 || text.size() - slash - 1 > 8) return std::nullopt;
  auto hi = parse_number<uint32_t>(text.substr(0, slash), 16);
  auto lo = parse_number<uint32_t>(text.substr(slash + 1), 16);
  if (!hi || !lo) return std::nullopt;
  return (uint64_t{*hi} << 32) | *lo;
}

std::string format_lsn(uint64_t lsn) {
  return fmt::format("{:X}/{:X}", static_cast<uint32_t>(lsn >> 32), static_cast<uint32_t>(lsn));
}

Result<PgServerState> parse_server_state(const PgResult& result) {
  if (!result.ok) return Status::error(result.error);
  if (result.rows.size() != 1) return Status::error(fmt::format("expected one row, got {}", result.rows.size()));
  Row row(result);
  PgServerState s;
  const std::string* recovery = row.get("in_recovery");
  if (recovery && (*recovery == "t" || *recovery == "f"))
    s.role = *recovery == "t" ? PgRole::standby : PgRole::primary;
  else
    return Status::error("in_recovery is not a boolean");
  s.system_identifier = row.number<uint64_t>("system_identifier");
  s.checkpoint_timeline = row.number<uint32_t>("checkpoint_timeline");
  s.current_lsn = row.lsn("current_lsn");
  s.receive_lsn = row.lsn("receive_lsn");
  s.replay_lsn = row.lsn("replay_lsn");
  s.replay_lag_seconds = row.seconds("replay_lag_seconds");
  if (const std::string* status = row.get("receiver_status")) s.receiver_status = *status;
  s.receiver_timeline = row.number<uint32_t>("receiver_timeline");
  s.receiver_latest_end_lsn = row.lsn("receiver_latest_end_lsn");
  if (const std::string* v = row.get("sync_standby_names")) s.sync_standby_names = *v;
  if (const std::string* v = row.get("sender_state")) s.sender_state = *v;
  if (const std::string* v = row.get("sender_name")) s.sender_name = *v;
  if (const std::string* v = row.get("sender_sync_state")) s.sender_sync_state = *v;
  s.sender_flush_lsn = row.lsn("sender_flush_lsn");
  uint32_t insert_timeline = row.number<uint32_t>("insert_timeline");
  if (!row.problems().empty()) return Status::error(fmt::format("{}", fmt::join(row.problems(), "; ")));
  if (s.role == PgRole::primary)
    s.timeline = insert_timeline;
  else
    s.timeline = s.receiver_timeline ? s.receiver_timeline : s.checkpoint_timeline;
  return s;
}

uint32_t diff(const PgFacts& a, const PgFacts& b) {
  uint32_t changed = 0;
  if (a.alive != b.alive) changed |= kChangeAlive;
  if (a.role() != b.role()) changed |= kChangeRole;
  if (a.timeline != b.timeline) changed |= kChangeTimeline;
  if (a.streaming != b.streaming) changed |= kChangeStreaming;
  auto lsns = [](const PgFacts& f) {
    const auto& l = f.local;
    return std::make_tuple(l ? l->current_lsn : std::nullopt, l ? l->receive_lsn : std::nullopt,
                           l ? l->replay_lsn : std::nullopt, f.receive_lag_bytes,
                           f.replay_lag_bytes, f.replay_lag_seconds);
  };
  if (lsns(a) != lsns(b)) changed |= kChangeLsn;
  if (a.peer_alive != b.peer_alive) changed |= kChangePeerAlive;
  if (a.peer_role() != b.peer_role()) changed |= kChangePeerRole;
  auto peer_lsns = [](const PgFacts& f) {
    const auto& p = f.peer;
    return std::make_tuple(p ? p->current_lsn : std::nullopt, p ? p->receive_lsn : std::nullopt,
                           p ? p->replay_lsn : std::nullopt, p ? p->timeline : 0);
  };
  if (peer_lsns(a) != peer_lsns(b)) changed |= kChangePeerLsn;
  auto sync = [](const PgFacts& f) {
    const auto& l = f.local;
    const auto& p = f.peer;
    return std::make_tuple(l ? l->sync_standby_names : "", l ? l->sender_state : "",
                           l ? l->sender_flush_lsn : std::nullopt,
                           p ? p->sync_standby_names : "");
  };
  if (sync(a) != sync(b)) changed |= kChangeSync;
  return changed;
}

void derive_lag(PgFacts& f, std::optional<uint64_t> max_lag_bytes) {
  f.primary_lsn.reset();
  f.receive_lag_bytes.reset();
  f.replay_lag_bytes.reset();
  f.replay_lag_seconds.reset();
  f.lag_exceeded = false;
  if (!f.local || f.local->role != PgRole::standby) return;
  f.replay_lag_seconds = f.local->replay_lag_seconds;
  std::optional<uint64_t> primary = f.local->receiver_latest_end_lsn;
  if (f.peer_role() == PgRole::primary && f.peer_primary_lsn)
    primary = std::max(primary.value_or(0), *f.peer_primary_lsn);
  if (!primary) return;
  f.primary_lsn = primary;
  auto behind = [&](std::optional<uint64_t> lsn) -> std::optional<uint64_t> {
    if (!lsn) return std::nullopt;
    return *primary > *lsn ? *primary - *lsn : 0;
  };
  f.receive_lag_bytes = behind(f.local->receive_lsn);
  f.replay_lag_bytes = behind(f.local->replay_lsn);
  if (max_lag_bytes && f.receive_lag_bytes) f.lag_exceeded = *f.receive_lag_bytes > *max_lag_bytes;
}

}  // namespace pgvrrpd::checkers
