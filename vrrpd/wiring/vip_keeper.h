// The VIPs of one router on its interface, as the router wants them: added
// with the lease and refreshed while master, removed otherwise. A netlink
// call that fails (ENOBUFS in a burst, an interface being renamed, a full
// address table) is logged and retried until it succeeds or the router
// changes its mind, so a transient error neither leaves a master without
// its VIP (clients time out) nor a backup or a stopped node with one (two
// hosts answering ARP for the VIP). Adds that keep failing are reported to
// the router, which gives up mastership so that the peer takes over.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "vrrpd/basics/time.h"
#include "vrrpd/config/config.h"
#include "vrrpd/edge/netlink.h"
#include "vrrpd/loop/event_loop_linux.h"

namespace pgvrrpd {

// Every third of the lease, so that two refreshes may be lost before the
// kernel drops the VIP; in milliseconds, not whole seconds, so that a lease
// of 1 or 2 s does not give a period of 0 (a busy loop). REQUIRES: lease > 0.
Duration vip_refresh_period(uint32_t lease_seconds);
// How long a refresh may wait for a gap between adverts (DeferredTask): a
// tenth of the lease, at most 200 ms; 200 ms for permanent VIPs' retries.
Duration vip_refresh_slack(uint32_t lease_seconds);

class VipKeeper {
 public:
  // A failed add or remove is tried again after this (or at the next lease
  // refresh, when that comes sooner).
  static constexpr Duration kRetryDelay = std::chrono::seconds(1);
  // A VIP whose adds have failed this long (it may be gone: clients time
  // out) is reported once per streak to the AddFailed listener.
  static constexpr Duration kAddFaultAfter = std::chrono::seconds(3);
  using AddFailed = std::function<void(const std::string& reason)>;

  VipKeeper(EventLoop& loop, Netlink& netlink, int ifindex, const RouterConfig& config);
  VipKeeper(const VipKeeper&) = delete;
  VipKeeper& operator=(const VipKeeper&) = delete;

  // The VIPs are on the interface already (an earlier run left them): kept,
  // their lease renewed now and refreshed, until add() or remove() decides.
  void adopt();
  // Adds every VIP now (an existing one gets its lease renewed), then keeps
  // them: refreshed every vip_refresh_period, retried while one fails.
  void add();
  // Removes every VIP now and stops refreshing; retried while one fails.
  void remove();

  // A remove failed and waits for its retry: the VIP may still be on the
  // interface (the daemon's shutdown waits for this).
  bool removing() const;

  // Called from the loop (never from inside add/remove) when a VIP's adds
  // have failed for kAddFaultAfter.
  void set_add_failed_listener(AddFailed listener) { add_failed_ = std::move(listener); }

 private:
  enum class Want { nothing, present, absent };
  struct Vip {
    bool settled = false;   // in the wanted state as far as netlink said
    uint32_t failures = 0;  // failed calls in a row
    std::optional<TimePoint> failing_since;  // the first of them
    bool reported = false;  // to the AddFailed listener, in this streak
  };
  static Vip settled_vip() {
    Vip v;
    v.settled = true;
    return v;
  }

  void want(Want wanted);
  void sync();           // adds every VIP (present) or removes the unsettled ones (absent)
  void schedule_next();  // the next refresh or retry, if any
  void report(size_t i, const Status& status, const char* verb);

  EventLoop& loop_;
  Netlink& netlink_;
  int ifindex_;
  const RouterConfig& config_;
  Want want_ = Want::nothing;
  std::vector<Vip> vips_;  // parallel to config_.params.virtual_ips
  Timer next_sync_;        // the next lease refresh or retry...
  DeferredTask sync_;      // ...in the next gap between adverts
  std::optional<TimePoint> last_error_log_;
  AddFailed add_failed_;
  std::string add_failure_;  // what the listener is told, when not empty
  Timer report_add_failure_;  // tells it from the loop, out of sync()
};

}  // namespace pgvrrpd
