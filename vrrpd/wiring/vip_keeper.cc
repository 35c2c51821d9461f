#include "vrrpd/wiring/vip_keeper.h"

#include <algorithm>

#include "vrrpd/basics/log.h"

namespace pgvrrpd {

namespace {
// A VIP that keeps failing is reported at its first failure, then at most
// this often, so a retry every second does not flood the log.
constexpr auto kErrorLogInterval = std::chrono::seconds(10);

Duration lease_duration(uint32_t lease_seconds) {
  return std::chrono::milliseconds(int64_t{1000} * lease_seconds);
}
}  // namespace

Duration vip_refresh_period(uint32_t lease_seconds) { return lease_duration(lease_seconds) / 3; }

Duration vip_refresh_slack(uint32_t lease_seconds) {
  constexpr Duration kMaxSlack = std::chrono::milliseconds(200);
  if (lease_seconds == 0) return kMaxSlack;
  return std::min(kMaxSlack, lease_duration(lease_seconds) / 10);
}

VipKeeper::VipKeeper(EventLoop& loop, Netlink& netlink, int ifindex, const RouterConfig& config)
    : loop_(loop),
      netlink_(netlink),
      ifindex_(ifindex),
      config_(config),
      vips_(config.params.virtual_ips.size()),
      // The refresh is a blocking netlink round trip: the timer only posts
      // it, and it runs in the next gap between adverts.
      next_sync_(loop, [this] {
        sync_.post(loop_.now() + vip_refresh_slack(config_.vip_lease_seconds));
      }),
      sync_(loop, [this] {
        sync();
        schedule_next();
      }),
      report_add_failure_(loop, [this] {
        auto reason = std::move(add_failure_);
        add_failure_.clear();
        if (add_failed_ && !reason.empty()) add_failed_(reason);
      }) {}

void VipKeeper::adopt() {
  // Renewed at once and refreshed like a master's: the earlier run's lease
  // may end before the router has decided (its master down interval, its
  // checks' first verdicts), which would drop the VIP of a master that was
  // only restarting.
  want(Want::present);
}

void VipKeeper::add() { want(Want::present); }
void VipKeeper::remove() { want(Want::absent); }

void VipKeeper::want(Want wanted) {
  for (auto& vip : vips_) {
    vip.settled = false;
    if (wanted != want_) vip = Vip{};  // a new streak for the new goal
  }
  want_ = wanted;
  sync();
  schedule_next();
}

bool VipKeeper::removing() const {
  return want_ == Want::absent &&
         std::any_of(vips_.begin(), vips_.end(), [](const Vip& v) { return !v.settled; });
}

void VipKeeper::sync() {
  for (size_t i = 0; i < vips_.size(); ++i) {
    const IpPrefix& vip = config_.params.virtual_ips[i];
    if (want_ == Want::present) {
      // Every VIP, not only the failed ones: this also renews the lease.
      report(i, netlink_.add_address(ifindex_, vip, config_.vip_lease_seconds), "add");
    } else if (want_ == Want::absent && !vips_[i].settled) {
      report(i, netlink_.remove_address(ifindex_, vip), "remove");
    }
  }
}

void VipKeeper::report(size_t i, const Status& status, const char* verb) {
  Vip& vip = vips_[i];
  auto where = [&] {
    return fmt::format("{} {} {}", config_.params.virtual_ips[i].to_string(),
                       want_ == Want::present ? "on" : "from", config_.interface);
  };
  if (status) {
    if (vip.failures > 0)
      log::info("router {}: {} VIP {}: done after {} failed attempt{}", config_.params.name, verb,
                where(), vip.failures, vip.failures == 1 ? "" : "s");
    vip = settled_vip();
    return;
  }
  vip.settled = false;
  ++vip.failures;
  auto now = loop_.now();
  if (!vip.failing_since) vip.failing_since = now;
  if (want_ == Want::present && !vip.reported && now - *vip.failing_since >= kAddFaultAfter) {
    vip.reported = true;
    add_failure_ = fmt::format("cannot add VIP {}: {} (failing for {} attempts)", where(),
                               status.message(), vip.failures);
    report_add_failure_.arm(now);
  }
  if (vip.failures > 1 && last_error_log_ && now - *last_error_log_ < kErrorLogInterval) return;
  last_error_log_ = now;
  log::error("router {}: {} VIP {}: {} (attempt {}, retrying)", config_.params.name, verb,
             where(), status.message(), vip.failures);
}

void VipKeeper::schedule_next() {
  bool failing = std::any_of(vips_.begin(), vips_.end(), [](const Vip& v) { return !v.settled; });
  uint32_t lease_seconds = config_.vip_lease_seconds;
  std::optional<Duration> delay;
  if (want_ == Want::present && lease_seconds > 0) delay = vip_refresh_period(lease_seconds);
  if (want_ != Want::present) report_add_failure_.disarm();  // no longer wanted
  if (failing) delay = std::min(delay.value_or(kRetryDelay), kRetryDelay);
  sync_.cancel();
  if (delay)
    next_sync_.arm(loop_.now() + *delay);
  else
    next_sync_.disarm();
}

}  // namespace pgvrrpd
