#include "checkers/pg_monitor.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "checkers/conninfo_libpq.h"

namespace pgvrrpd::checkers {
namespace {

// The peer's address, for the local server's WAL sender to it.
std::optional<IpAddress> peer_address(const PostgresCheckParams& p) {
  if (p.peer_conninfo.empty()) return std::nullopt;
  return IpAddress::parse(conninfo_server(p.peer_conninfo).address);
}

PgLinkTiming timing(const PostgresCheckParams& p) {
  Duration retry_max = p.retry_max > Duration::zero() ? p.retry_max : p.interval;
  return {p.interval, p.timeout, p.retry_min, std::max(retry_max, p.retry_min)};
}

}  // namespace

PgMonitor::PgMonitor(PostgresCheckParams params, PgConnectionFactory factory)
    : params_(std::move(params)),
      local_("local", factory, params_.conninfo, facts_query(peer_address(params_)),
             timing(params_)),
      hysteresis_(std::max(params_.rise, 1u), std::max(params_.fall, 1u)) {
  local_.set_callbacks(
      [this](const PgResult& r, TimePoint now) { on_local_result(r, now); },
      [this](const std::string& reason, bool lost, TimePoint now) { on_local_failure(reason, lost, now); });
  if (!params_.peer_conninfo.empty()) {
    peer_ = std::make_unique<PgLink>("peer", factory, params_.peer_conninfo, kFactsQuery,
                                     timing(params_));
    peer_->set_callbacks(
        [this](const PgResult& r, TimePoint now) { on_peer_result(r, now); },
        [this](const std::string& reason, bool, TimePoint now) { on_peer_failure(reason, now); });
    facts_.peer_configured = true;
  }
}

void PgMonitor::set_listeners(VerdictFn on_verdict, FactsFn on_facts) {
  on_verdict_ = std::move(on_verdict);
  on_facts_ = std::move(on_facts);
}

void PgMonitor::start(TimePoint now) {
  facts_.alive_changed_at = now;
  facts_.peer_alive_changed_at = now;
  local_.start(now);
  if (peer_) peer_->start(now);
}

void PgMonitor::stop() {
  local_.stop();
  if (peer_) peer_->stop();
}

void PgMonitor::on_timer(TimePoint now) {
  local_.on_timer(now);
  if (peer_) peer_->on_timer(now);
}

void PgMonitor::poll_now(TimePoint now) {
  local_.poll_now(now);
  if (peer_) peer_->poll_now(now);
}

void PgMonitor::set_fast_poll(bool on, TimePoint now) {
  if (on == fast_poll_) return;
  fast_poll_ = on;
  local_.set_interval(on ? params_.fast_interval : params_.interval, now);
  if (on) local_.poll_now(now);
}

std::optional<TimePoint> PgMonitor::next_deadline() const {
  std::optional<TimePoint> a = local_.next_deadline();
  std::optional<TimePoint> b = peer_ ? peer_->next_deadline() : std::nullopt;
  if (a && b) return std::min(*a, *b);
  return a ? a : b;
}

void PgMonitor::on_local_result(const PgResult& result, TimePoint now) {
  Result<PgServerState> state = parse_server_state(result);
  if (!state) return on_local_failure("local: unexpected answer: " + state.status().message(), false, now);
  PgFacts before = facts_;
  if (!facts_.alive) facts_.alive_changed_at = now;
  facts_.alive = true;
  facts_.error.clear();
  facts_.local = std::move(state).value();
  facts_.local_at = now;
  const PgServerState& s = *facts_.local;
  facts_.streaming = s.receiver_status == "streaming";
  if (facts_.streaming) facts_.last_streaming_at = now;
  if (s.receiver_timeline) last_receiver_timeline_ = std::max(last_receiver_timeline_, s.receiver_timeline);
  facts_.timeline = s.role == PgRole::standby ? std::max(s.timeline, last_receiver_timeline_) : s.timeline;
  derive_lag(facts_, params_.max_lag_bytes);
  verdict(hysteresis_.record(true), fmt::format("answering as {}", to_string(s.role)));
  publish(before);
}

void PgMonitor::on_local_failure(const std::string& reason, bool lost, TimePoint now) {
  PgFacts before = facts_;
  if (facts_.alive) facts_.alive_changed_at = now;
  facts_.alive = false;
  facts_.error = reason;
  facts_.streaming = false;
  verdict(lost ? hysteresis_.force(false) : hysteresis_.record(false), reason);
  publish(before);
}

void PgMonitor::on_peer_result(const PgResult& result, TimePoint now) {
  Result<PgServerState> state = parse_server_state(result);
  if (!state) return on_peer_failure("peer: unexpected answer: " + state.status().message(), now);
  PgFacts before = facts_;
  if (!facts_.peer_alive) facts_.peer_alive_changed_at = now;
  facts_.peer_alive = true;
  facts_.peer_error.clear();
  facts_.peer = std::move(state).value();
  facts_.peer_at = now;
  if (facts_.peer->role == PgRole::primary) {
    facts_.peer_primary_lsn = facts_.peer->current_lsn;
    facts_.peer_primary_timeline = facts_.peer->timeline;
    facts_.peer_primary_at = now;
    facts_.peer_primary_sync_standby_names = facts_.peer->sync_standby_names;
  }
  derive_lag(facts_, params_.max_lag_bytes);
  publish(before);
}

void PgMonitor::on_peer_failure(const std::string& reason, TimePoint now) {
  PgFacts before = facts_;
  if (facts_.peer_alive) facts_.peer_alive_changed_at = now;
  facts_.peer_alive = false;
  facts_.peer_error = reason;
  publish(before);
}

void PgMonitor::verdict(std::optional<bool> changed, const std::string& reason) {
  if (changed && on_verdict_) on_verdict_(*changed, reason);
}

void PgMonitor::publish(const PgFacts& before) {
  uint32_t changed = diff(before, facts_);
  if (changed && on_facts_) on_facts_(facts_, changed);
}

}  // namespace pgvrrpd::checkers
