// One virtual router at the edge: feeds the pure vrrp::Router with events
// and carries out the actions it returns (adverts on the socket, VIPs over
// netlink, ARP/ND announcements), with the timers those need.
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <map>

#include <memory>
#include <optional>
#include <string>

#include "vrrpd/config/config.h"
#include "vrrpd/core/router.h"
#include "vrrpd/edge/announcer.h"
#include "vrrpd/edge/netlink.h"
#include "vrrpd/edge/vrrp_socket.h"
#include "vrrpd/loop/event_loop_linux.h"
#include "vrrpd/wiring/router_policy.h"
#include "vrrpd/wiring/vip_keeper.h"

namespace pgvrrpd {

// The interface-wide resources a router uses; owned by the Daemon.
struct RouterLinks {
  Netlink& netlink;
  VrrpSocket& socket;
  Announcer& announcer;
  int ifindex;
  // IPv6: the interface's link-local address, the source of unsolicited
  // neighbour advertisements (RFC 4861 7.2.6). Unused for IPv4.
  IpAddress link_local;
};

class RouterRuntime {
 public:
  // How long a router stays FAULT after its VIPs could not be added.
  static constexpr Duration kVipFaultHold = std::chrono::seconds(10);

  RouterRuntime(EventLoop& loop, RouterLinks links, const RouterConfig& config,
                IpAddress primary_address);
  RouterRuntime(const RouterRuntime&) = delete;
  RouterRuntime& operator=(const RouterRuntime&) = delete;

  // `vips_present`: the VIPs are already on the interface (earlier run).
  void start(bool vips_present);
  // An advert for this router that passed the codec and receive filter.
  void on_advert(const vrrp::Advert& advert, const vrrp::PacketContext& context);
  void shutdown();

  const vrrp::Router& router() const { return router_; }
  // A VIP removal failed and is being retried (see VipKeeper).
  bool removing_vips() const { return vips_.removing(); }
  // Checks, hooks and the failover policy of this router.
  RouterPolicy& policy() { return policy_; }
  // The last state change, for pgvrrpctl status.
  struct TransitionRecord {
    vrrp::State from;
    vrrp::State to;
    std::string reason;
    TimePoint at;                                // the loop's clock
    std::chrono::system_clock::time_point wall;  // for people
  };
  const std::optional<TransitionRecord>& last_transition() const { return last_transition_; }
  // Counters for the metrics file: adverts sent (each destination counts),
  // transitions by the state entered (indexed by vrrp::State).
  uint64_t adverts_sent() const { return adverts_sent_; }
  uint64_t transitions_to(vrrp::State state) const {
    return transitions_[static_cast<size_t>(state)];
  }
  // Transitions by the state entered and why (vrrp::Cause), for the metrics.
  const std::map<std::pair<vrrp::State, vrrp::Cause>, uint64_t>& transitions_by_cause() const {
    return transitions_by_cause_;
  }
  // Called after every protocol step (an advert, a timer, a check's
  // verdict): the daemon's systemd status follows the routers' states.
  void set_change_listener(std::function<void()> listener) {
    change_listener_ = std::move(listener);
  }
  const RouterConfig& config() const { return config_; }

 private:
  void apply(const vrrp::Actions& actions);
  void arm_protocol_timer();
  void send_advert(uint8_t priority);
  void remove_vips();
  void start_announcing();
  void announce_once();
  void warn_limited(const std::string& message);

  EventLoop& loop_;
  RouterLinks links_;
  const RouterConfig& config_;
  vrrp::Router router_;
  Timer protocol_timer_;   // the core's Master_Down_Timer / Adver_Timer
  VipKeeper vips_;
  std::function<void()> change_listener_;
  std::optional<TransitionRecord> last_transition_;
  uint64_t adverts_sent_ = 0;
  std::array<uint64_t, 4> transitions_{};
  std::map<std::pair<vrrp::State, vrrp::Cause>, uint64_t> transitions_by_cause_;         // adds, refreshes and removes the VIPs
  Timer announce_timer_;   // repeats and refreshes GARP / NA while master
  Timer vip_fault_clear_;  // ends the FAULT a failed VIP add caused
  uint32_t announcements_left_ = 0;
  std::optional<TimePoint> last_warning_;
  uint64_t suppressed_warnings_ = 0;
  RouterPolicy policy_;  // last: it refers to router_ and apply()
};

}  // namespace pgvrrpd
