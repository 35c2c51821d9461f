#include "vrrpd/core/router.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace pgvrrpd::vrrp {

std::string_view state_name(State state) {
  switch (state) {
    case State::initialize: return "INIT";
    case State::backup: return "BACKUP";
    case State::master: return "MASTER";
    case State::fault: return "FAULT";
  }
  return "?";
}

Router::Router(RouterParams params, IpAddress primary_address)
    : params_(std::move(params)),
      primary_address_(primary_address),
      master_adver_interval_(params_.advert_interval),
      priority_(params_.priority) {}

Duration Router::skew_time() const {
  // RFC 5798 6.1: Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256.
  // RFC 3768 6.1 (v2): Skew_Time = (256 - Priority) / 256 seconds, i.e. the
  // same formula with a one-second interval. Computed in nanoseconds so that
  // small intervals keep their precision.
  Centiseconds interval = params_.version == 2 ? Centiseconds(100) : master_adver_interval_;
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(interval);
  return ns * (256 - priority_) / 256;
}

Duration Router::master_down_interval() const {
  // RFC 5798 6.1: (3 * Master_Adver_Interval) + Skew_Time. v2 has no
  // learned interval: its own Advertisement_Interval, which must match.
  Centiseconds interval =
      params_.version == 2 ? params_.advert_interval : master_adver_interval_;
  return 3 * std::chrono::duration_cast<Duration>(interval) + skew_time();
}

Advert Router::make_advert(uint8_t priority) const {
  Advert advert;
  advert.version = params_.version;
  advert.vrid = params_.vrid;
  advert.priority = priority;
  advert.interval = params_.advert_interval;
  advert.addresses.reserve(params_.virtual_ips.size());
  for (const auto& vip : params_.virtual_ips) advert.addresses.push_back(vip.address);
  advert.auth_type = params_.version == 2 ? params_.auth_type : 0;
  if (params_.version == 2) advert.auth_data = params_.auth_data;
  return advert;
}

std::optional<TimePoint> Router::next_deadline() const {
  if (master_down_timer_ && adver_timer_) return std::min(*master_down_timer_, *adver_timer_);
  return master_down_timer_ ? master_down_timer_ : adver_timer_;
}

std::string_view cause_name(Cause cause) {
  switch (cause) {
    case Cause::startup: return "startup";
    case Cause::master_down: return "master_down";
    case Cause::master_resigned: return "master_resigned";
    case Cause::takeover_guard_cleared: return "takeover_guard_cleared";
    case Cause::outranked: return "outranked";
    case Cause::fault_check: return "fault_check";
    case Cause::fault_link: return "fault_link";
    case Cause::fault_promotion: return "fault_promotion";
    case Cause::fault_switchover: return "fault_switchover";
    case Cause::fault_other: return "fault_other";
    case Cause::fault_cleared: return "fault_cleared";
    case Cause::shutdown: return "shutdown";
  }
  return "?";
}

namespace {

// set_fault()'s source: "check NAME", "link", "promotion", "switchover".
Cause fault_cause(std::string_view source) {
  if (source.starts_with("check ")) return Cause::fault_check;
  if (source == "link") return Cause::fault_link;
  if (source == "promotion") return Cause::fault_promotion;
  if (source == "switchover") return Cause::fault_switchover;
  return Cause::fault_other;
}

}  // namespace

void Router::set_state(State to, Cause cause, std::string reason, Actions& out) {
  out.push_back(Action::transition(state_, to, cause, std::move(reason)));
  state_ = to;
  reclaim_held_ = false;  // only a master holds one back
}

void Router::become_master(TimePoint now, Cause cause, std::string reason, Actions& out) {
  // RFC 5798 6.4.1 / 6.4.2: send an ADVERTISEMENT, announce the addresses,
  // set Adver_Timer, transition to Master. The VIPs go on before the
  // announcement so that the ARP replies it provokes find them.
  set_state(State::master, cause, std::move(reason), out);
  decided_ = true;
  out.push_back(Action::send_advert(priority_));
  master_down_timer_.reset();
  adver_timer_ = now + std::chrono::duration_cast<Duration>(params_.advert_interval);
  resigned_master_.reset();
  takeover_pending_ = false;
  if (!params_.gate_vips_on_serving || serving_) {
    add_vips_now(out);
    return;
  }
  // Promote before the VIP: clients must never reach a server that is still
  // read-only. VIPs left by an earlier run point at that server too.
  if (holding_stale_vips_) out.push_back(Action::remove_vips());
  holding_stale_vips_ = false;
  vips_pending_ = true;
  serving_deadline_ = now + params_.serving_timeout;
  out.push_back(Action::notice("waiting for the local server to accept writes before adding the VIPs"));
}

void Router::add_vips_now(Actions& out) {
  out.push_back(Action::add_vips());
  out.push_back(Action::announce());
  holding_stale_vips_ = false;
  vips_pending_ = false;
  serving_deadline_.reset();
}

void Router::become_backup(TimePoint now, Cause cause, std::string reason, Actions& out) {
  // RFC 5798 6.4.1: Master_Adver_Interval starts at our own interval and
  // Master_Down_Timer at Master_Down_Interval.
  set_state(State::backup, cause, std::move(reason), out);
  master_adver_interval_ = params_.advert_interval;
  adver_timer_.reset();
  master_down_timer_ = now + master_down_interval();
  resigned_master_.reset();
}

Actions Router::start(TimePoint now, bool vips_present) {
  Actions out;
  if (state_ != State::initialize) return out;
  if (faulted()) {
    if (vips_present) out.push_back(Action::remove_vips());
    set_state(State::fault, fault_cause(faults_.begin()->first), faults_.begin()->second, out);
    return out;
  }
  if (priority_ == kOwnerPriority) {
    holding_stale_vips_ = vips_present;
    become_master(now, Cause::startup, "startup as address owner (priority 255)", out);
    return out;
  }
  // VIPs left by an earlier run stay until the router has decided, so a
  // restarted master keeps serving without a gap.
  holding_stale_vips_ = vips_present;
  become_backup(now, Cause::startup,
                vips_present ? "startup, holding VIPs until decided" : "startup", out);
  return out;
}

void Router::learn_master_interval(const Advert& advert) {
  // RFC 5798 6.4.2 / 6.4.3: v3 backups follow the master's interval. v2
  // intervals must match (checked by the receive filter), nothing to learn.
  // A zero interval (no RFC forbids it on the wire) would shrink
  // Master_Down_Interval to Skew_Time alone; keep what we had instead.
  if (params_.version == 3 && advert.interval.count() > 0)
    master_adver_interval_ = advert.interval;
}

bool Router::sender_wins(const Advert& advert, const IpAddress& source) const {
  // RFC 5798 6.4.3: higher priority, or equal priority and a greater primary
  // address, compared as unsigned integers in network byte order.
  if (advert.priority != priority_) return advert.priority > priority_;
  return primary_address_ < source;
}

bool Router::ranks_below_followed_master(TimePoint now, const Advert& advert,
                                         const IpAddress& source) const {
  if (!last_master_ || *last_master_ == source || last_master_priority_ == 0) return false;
  if (now >= *last_master_heard_ + master_down_interval()) return false;  // it went quiet
  if (advert.priority != last_master_priority_) return advert.priority < last_master_priority_;
  return source < *last_master_;
}

void Router::follow(TimePoint now, const Advert& advert, const IpAddress& source) {
  last_master_heard_ = now;
  last_master_ = source;
  last_master_priority_ = advert.priority;
}

Actions Router::receive(TimePoint now, const Advert& advert, const IpAddress& source) {
  Actions out;
  if (state_ == State::backup) {
    // Beyond RFC 5798 6.4.2: an advert that ranks below the master we
    // follow, while that master is heard, neither resets our timer nor
    // teaches us its interval. It is a router stepping down (its one last
    // advert, below) or the loser of a healing split; obeyed, a short
    // interval of its would make us time out between the adverts of a
    // slower master and take over, again and again (found by fuzz_router
    // with three routers).
    if (advert.priority > 0 && ranks_below_followed_master(now, advert, source)) return out;
    follow(now, advert, source);
    decided_ = true;
    if (holding_stale_vips_ && advert.priority > 0) {
      // Decided: another router is master, so the leftover VIPs are not
      // ours, even when it is a lower-priority master we are about to
      // preempt (until then both would hold them). A resigning master's
      // advert leaves them: we take over after Skew_Time, without a gap.
      holding_stale_vips_ = false;
      out.push_back(Action::remove_vips());
    }
    if (advert.priority == 0) {
      // RFC 5798 6.4.2: the master resigned; take over after Skew_Time only.
      master_down_timer_ = now + skew_time();
      resigned_master_ = source;
      return out;
    }
    if (!params_.preempt || advert.priority >= priority_) {
      learn_master_interval(advert);
      master_down_timer_ = now + master_down_interval();
      resigned_master_.reset();
      if (takeover_pending_) {
        takeover_pending_ = false;
        out.push_back(Action::notice(
            fmt::format("takeover no longer wanted: master {} is back", source.to_string())));
      }
    }
    // Otherwise (preempt, lower priority master): let the timer run out.
    return out;
  }
  if (state_ == State::fault && advert.priority > 0) {
    // FAULT takes no part in the protocol, but the failover policy needs
    // to know who is master now (to rejoin the local server to it).
    follow(now, advert, source);
    decided_ = true;
  }
  if (state_ != State::master) return out;  // Initialize and Fault ignore adverts.

  if (advert.priority == 0) {
    // RFC 5798 6.4.3: answer a resigning router at once so that backups
    // that heard it do not take over.
    out.push_back(Action::send_advert(priority_));
    auto interval = std::chrono::duration_cast<Duration>(params_.advert_interval);
    adver_timer_ = now + interval;
    // Another master resigning: a split just healed and it gives way (the
    // stale side of a PostgreSQL split, say). It held the VIPs and pointed
    // the clients at itself: announce ours, at most once per interval as
    // for a lower-priority master below.
    if (!last_lower_answer_ || now >= *last_lower_answer_ + interval) {
      last_lower_answer_ = now;
      out.push_back(Action::announce());
    }
    return out;
  }
  if (sender_wins(advert, source) && yield_blocker_) {
    if (yield_refused_to_ != source) {
      yield_refused_to_ = source;
      out.push_back(Action::notice(fmt::format(
          "not yielding to the priority {} advert from {}: {}", advert.priority,
          source.to_string(), *yield_blocker_)));
    }
    return out;
  }
  if (sender_wins(advert, source)) {
    follow(now, advert, source);
    std::string reason =
        advert.priority > priority_
            ? fmt::format("higher priority advert from {} (priority {})", source.to_string(),
                          advert.priority)
            : fmt::format("equal priority advert from higher address {}", source.to_string());
    learn_master_interval(advert);
    set_state(State::backup, Cause::outranked, std::move(reason), out);
    // Beyond RFC 5798 6.4.3: one last advert at our own priority. After a
    // split heals, the winner may have been heard first, and without this it
    // would never hear us, never learn the split happened, and never
    // re-announce to the clients we pointed at ourselves (see the
    // lower-priority rule below; keepalived re-announces likewise).
    out.push_back(Action::send_advert(priority_));
    out.push_back(Action::remove_vips());
    adver_timer_.reset();
    master_down_timer_ = now + master_down_interval();
    return out;
  }
  // RFC 5798 6.4.3 says discard. We also advertise and announce at once: a
  // lower-priority master means a split just healed, and both it and the
  // clients' ARP/ND caches should learn who the master is now, not one
  // interval later. At most once per interval: a flood of such adverts
  // must not become a flood of adverts and gratuitous ARP from us.
  auto interval = std::chrono::duration_cast<Duration>(params_.advert_interval);
  if (last_lower_answer_ && now < *last_lower_answer_ + interval) return out;
  last_lower_answer_ = now;
  out.push_back(Action::send_advert(priority_));
  adver_timer_ = now + interval;
  if (reclaim_blocker_) {
    if (!reclaim_held_)
      out.push_back(Action::notice(fmt::format(
          "lower-priority master {} heard (a split healed?): not announcing the VIPs to the "
          "clients: {}",
          source.to_string(), *reclaim_blocker_)));
    reclaim_held_ = true;
    return out;
  }
  out.push_back(Action::announce());
  return out;
}

Actions Router::set_reclaim_blocker(std::optional<std::string> reason) {
  Actions out;
  reclaim_blocker_ = std::move(reason);
  if (reclaim_blocker_ || !reclaim_held_) return out;
  reclaim_held_ = false;
  if (state_ == State::master && !vips_pending_) {
    out.push_back(Action::notice("reclaim guard cleared: announcing the VIPs"));
    out.push_back(Action::announce());
  }
  return out;
}

Actions Router::expire(TimePoint now) {
  Actions out;
  if (state_ == State::backup && master_down_timer_ && *master_down_timer_ <= now) {
    std::string reason = master_gone_reason();
    if (takeover_blocker_) {
      // Stay backup and say why; set_takeover_blocker(nullopt) takes over.
      // VIPs left by an earlier run are not ours while the guard says so.
      master_down_timer_.reset();
      takeover_pending_ = true;
      if (holding_stale_vips_) {
        holding_stale_vips_ = false;
        out.push_back(Action::remove_vips());
      }
      out.push_back(Action::notice(fmt::format("{}, but takeover held: {}", reason,
                                               *takeover_blocker_)));
      return out;
    }
    become_master(now, master_gone_cause(), std::move(reason), out);
    return out;
  }
  if (state_ == State::master && serving_deadline_ && *serving_deadline_ <= now) {
    auto seconds = std::chrono::duration_cast<std::chrono::milliseconds>(params_.serving_timeout);
    return set_fault(now, "promotion", true,
                     fmt::format("local server not accepting writes {:.3g} s after "
                                 "becoming master", seconds.count() / 1000.0));
  }
  if (state_ == State::master && adver_timer_ && *adver_timer_ <= now) {
    out.push_back(Action::send_advert(priority_));
    // Keep the cadence of the schedule rather than of our wake-ups; after a
    // long stall start afresh instead of sending a burst.
    auto interval = std::chrono::duration_cast<Duration>(params_.advert_interval);
    *adver_timer_ += interval;
    if (*adver_timer_ <= now) adver_timer_ = now + interval;
  }
  return out;
}

Cause Router::master_gone_cause() const {
  return resigned_master_ ? Cause::master_resigned : Cause::master_down;
}

std::string Router::master_gone_reason() const {
  if (resigned_master_)
    return fmt::format("master {} resigned (priority 0 advert)", resigned_master_->to_string());
  return "master down timer expired";
}

Actions Router::set_takeover_blocker(TimePoint now, std::optional<std::string> reason) {
  Actions out;
  if (reason == takeover_blocker_) return out;
  takeover_blocker_ = std::move(reason);
  if (!takeover_pending_ || state_ != State::backup) return out;
  if (takeover_blocker_) {
    out.push_back(Action::notice(fmt::format("takeover still held: {}", *takeover_blocker_)));
    return out;
  }
  become_master(now, Cause::takeover_guard_cleared,
                master_gone_reason() + ", takeover guard cleared", out);
  return out;
}

Actions Router::set_serving(TimePoint /*now*/, bool serving) {
  Actions out;
  serving_ = serving;
  if (serving && state_ == State::master && vips_pending_) {
    out.push_back(Action::notice("local server accepts writes: adding the VIPs"));
    add_vips_now(out);
  }
  return out;
}

void Router::stand_down(Actions& out) {
  if (state_ == State::master) {
    // RFC 5798 6.4.3: priority 0 lets the backup take over after Skew_Time
    // instead of Master_Down_Interval.
    out.push_back(Action::send_advert(0));
    out.push_back(Action::remove_vips());
  } else if (holding_stale_vips_) {
    out.push_back(Action::remove_vips());
  }
  holding_stale_vips_ = false;
  adver_timer_.reset();
  master_down_timer_.reset();
  takeover_pending_ = false;
  vips_pending_ = false;
  serving_deadline_.reset();
}

Actions Router::shutdown(TimePoint /*now*/) {
  Actions out;
  stand_down(out);
  if (state_ != State::initialize) set_state(State::initialize, Cause::shutdown, "shutdown", out);
  return out;
}

Actions Router::set_fault(TimePoint now, std::string_view source, bool faulted,
                          std::string_view reason) {
  Actions out;
  bool was = this->faulted();
  auto it = faults_.find(source);
  if (faulted) {
    if (it != faults_.end()) return out;  // already faulted by this source
    faults_.emplace(std::string(source), std::string(reason));
  } else {
    if (it == faults_.end()) return out;
    faults_.erase(it);
  }
  if (state_ == State::initialize || was == this->faulted()) return out;  // start() decides
  if (faulted) {
    // A master that can no longer serve resigns at once.
    stand_down(out);
    set_state(State::fault, fault_cause(source), std::string(reason), out);
    return out;
  }
  leave_fault(now, fmt::format("fault cleared: {}", reason), out);
  return out;
}

void Router::leave_fault(TimePoint now, std::string reason, Actions& out) {
  if (priority_ == kOwnerPriority)
    become_master(now, Cause::fault_cleared, std::move(reason), out);
  else
    become_backup(now, Cause::fault_cleared, std::move(reason), out);
}

}  // namespace pgvrrpd::vrrp
