#include "vrrpd/policy/switchover.h"

#include <fmt/format.h>

namespace pgvrrpd {

namespace {

std::string lsn_text(uint64_t lsn) {
  return fmt::format("{:X}/{:X}", lsn >> 32, lsn & 0xffffffffu);
}

}  // namespace

std::optional<std::string> switchover_refusal(const SwitchoverView& v, const std::string& to,
                                              std::optional<uint64_t> max_lag) {
  using vrrp::State;
  if (v.state != State::master)
    return v.state == State::backup && v.master
               ? fmt::format("this node is BACKUP: run the switchover on the master's node ({})",
                             v.master->to_string())
               : fmt::format("this node is {}, not MASTER: only the master hands over",
                             vrrp::state_name(v.state));
  if (!v.postgres_tracked)
    return std::string("no postgres check drives this router: nothing to hand over");
  if (!v.hook_configured)
    return std::string("no switchover hook configured (switchover = in the [router] section)");
  if (v.preempt)
    return std::string("preempt = true: this node would take the VIP back once it has "
                       "rejoined; set preempt = false on both nodes");
  if (v.hooks_busy) return std::string("a fence, rejoin or switchover hook is running");
  if (!v.local_alive || v.local_role != PgRole::primary)
    return std::string("the local server is not a running primary");
  if (v.peer_address.empty())
    return std::string("the postgres check has no peer_conninfo with an IP address: the "
                       "peer's server cannot be checked");
  if (!to.empty() && to != v.peer_address)
    return fmt::format("--to {}: the peer's server is {} (a pair has one peer)", to,
                       v.peer_address);
  if (!v.peer_fresh)
    return fmt::format("the peer's server ({}) does not answer", v.peer_address);
  if (v.peer_role != PgRole::standby)
    return fmt::format("the peer's server ({}) is not a standby but {}", v.peer_address,
                       to_string(v.peer_role));
  if (v.peer_system_identifier && v.local_system_identifier &&
      *v.peer_system_identifier != *v.local_system_identifier)
    return fmt::format("the peer's server is another cluster (system identifier {}, this one {})",
                       *v.peer_system_identifier, *v.local_system_identifier);
  if (v.peer_receiver_status != "streaming")
    return fmt::format("the peer's standby is not streaming from this primary (WAL receiver: {})",
                       v.peer_receiver_status.empty() ? "none" : v.peer_receiver_status);
  if (v.peer_timeline != v.local_timeline)
    return fmt::format("the peer's standby is on timeline {}, this primary on {}",
                       v.peer_timeline, v.local_timeline);
  if (!v.local_lsn || !v.peer_replay_lsn)
    return std::string("the WAL positions are not known yet");
  uint64_t limit = max_lag.value_or(kSwitchoverDefaultMaxLag);
  if (*v.local_lsn > *v.peer_replay_lsn && *v.local_lsn - *v.peer_replay_lsn > limit)
    return fmt::format("the peer's standby has replayed up to {}, {} bytes behind this "
                       "primary's {} (at most {} bytes{})",
                       lsn_text(*v.peer_replay_lsn), *v.local_lsn - *v.peer_replay_lsn,
                       lsn_text(*v.local_lsn), limit, max_lag ? ", max_lag" : "");
  return std::nullopt;
}

void Switchover::enter(Phase phase, std::string detail, TimePoint now) {
  phase_ = phase;
  detail_ = std::move(detail);
  changed_ = now;
}

void Switchover::start(std::string to, TimePoint now) {
  to_ = std::move(to);
  started_ = now;
  handover_time_.reset();
  enter(Phase::stopping, "stopping the local primary; waiting for the peer to replay all of it",
        now);
}

void Switchover::stopped(bool ok, const std::string& detail, TimePoint now) {
  if (phase_ != Phase::stopping) return;
  if (ok)
    enter(Phase::handing_over,
          fmt::format("the peer ({}) has replayed everything; resigned, waiting for it to serve",
                      to_),
          now);
  else
    enter(Phase::failed, detail, now);
}

void Switchover::observe(bool peer_serving, bool local_streaming_standby, TimePoint now) {
  if (phase_ == Phase::handing_over && peer_serving) {
    handover_time_ = now - started_;
    enter(Phase::rejoining,
          fmt::format("the peer ({}) serves; rejoining the old primary as its standby", to_), now);
  }
  if (phase_ == Phase::handing_over && now >= changed_ + kHandoverTimeout)
    enter(Phase::failed,
          fmt::format("the peer ({}) did not serve within {} s of the resignation (its pgvrrpd "
                      "stopped, or in maintenance?); this node's server is stopped cleanly",
                      to_, std::chrono::duration_cast<std::chrono::seconds>(kHandoverTimeout)
                               .count()),
          now);
  if (phase_ == Phase::rejoining && local_streaming_standby)
    enter(Phase::done, fmt::format("the old primary streams from the new one ({})", to_), now);
}

void Switchover::fail(const std::string& detail, TimePoint now) {
  if (running()) enter(Phase::failed, detail, now);
}

std::optional<TimePoint> Switchover::deadline() const {
  if (phase_ != Phase::handing_over) return std::nullopt;
  return changed_ + kHandoverTimeout;
}

const char* to_string(Switchover::Phase phase) {
  switch (phase) {
    case Switchover::Phase::none: return "none";
    case Switchover::Phase::stopping: return "stopping";
    case Switchover::Phase::handing_over: return "handing_over";
    case Switchover::Phase::rejoining: return "rejoining";
    case Switchover::Phase::done: return "done";
    case Switchover::Phase::failed: return "failed";
  }
  return "?";
}

}  // namespace pgvrrpd
