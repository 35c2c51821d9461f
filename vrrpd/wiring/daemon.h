// Wiring: opens the interface resources the configured routers need (VRRP
// sockets, announcers, netlink), dispatches received adverts to routers and
// runs the event loop until SIGTERM/SIGINT.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <vector>

#include "checkers/checker.h"
#include "checkers/link_checker_linux.h"
#include "vrrpd/edge/announce_linux.h"
#include "vrrpd/config/config.h"
#include "vrrpd/loop/event_loop_linux.h"
#include "vrrpd/edge/netlink_linux.h"
#include "vrrpd/core/packet.h"
#include "vrrpd/core/receive_filter.h"
#include "vrrpd/wiring/router_runtime.h"
#include "vrrpd/edge/vrrp_socket_linux.h"

namespace pgvrrpd {

class Daemon {
 public:
  explicit Daemon(Config config);
  ~Daemon();

  // Opens everything and starts the routers; an error here means nothing
  // was changed on the system and the process should exit non-zero.
  Status start();
  // Runs until SIGTERM/SIGINT, then shuts the routers down (priority 0
  // adverts, VIPs removed).
  Status run();

 private:
  // The routers of one interface and family share one socket and announcer.
  struct Link {
    std::string interface;
    int ifindex = 0;
    Family family = Family::ipv4;
    LinuxVrrpSocket socket;
    LinuxAnnouncer announcer;
    std::array<RouterRuntime*, 256> by_vrid{};
    vrrp::RoutersByVrid slots;  // the same routers, as the receive path sees them
  };

  Status open_link(const RouterConfig& router, Link*& out);
  // The address our adverts come from (and the tie-break uses).
  Result<IpAddress> source_address(const RouterConfig& router, int ifindex,
                                   const std::vector<IpPrefix>& existing);
  void on_readable(Link& link);
  void dispatch(Link& link, const VrrpSocket::Received& packet);
  void drop(const Link& link, const vrrp::PacketContext& context, vrrp::Reject reason);
  Status start_checks();
  Status start_hooks();
  void on_signal(int signal);
  void stop_when_hooks_done();
  void log_statistics() const;

  Config config_;
  EventLoop loop_;
  std::unique_ptr<Netlink> netlink_;
  std::map<std::pair<int, Family>, std::unique_ptr<Link>> links_;
  std::vector<std::unique_ptr<RouterRuntime>> routers_;
  std::map<std::string, std::unique_ptr<checkers::Checker>> checks_;  // tracked ones, by name
  std::map<std::string, std::unique_ptr<checkers::LinkChecker>> link_checks_;  // by interface
  std::unique_ptr<Timer> shutdown_timer_;  // waits for on_stop hooks
  TimePoint shutdown_deadline_{};
  std::array<uint64_t, static_cast<size_t>(vrrp::Reject::count_)> dropped_{};
  std::array<TimePoint, static_cast<size_t>(vrrp::Reject::count_)> last_drop_log_{};
  uint64_t received_ = 0;
};

}  // namespace pgvrrpd
