// Wiring: opens the interface resources the configured routers need (VRRP
// sockets, announcers, netlink) through a DaemonEdge, dispatches received
// adverts to routers and runs the event loop until SIGTERM/SIGINT.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include <string_view>

#include "checkers/checker.h"
#include "checkers/postgres_checker.h"
#include "vrrpd/config/config.h"
#include "vrrpd/core/packet.h"
#include "vrrpd/core/receive_filter.h"
#include "vrrpd/edge/announcer.h"
#include "vrrpd/edge/netlink.h"
#include "vrrpd/edge/systemd_notify_linux.h"
#include "vrrpd/edge/vrrp_socket.h"
#include "vrrpd/loop/event_loop_linux.h"
#include "vrrpd/loop/periodic_timer.h"
#include "vrrpd/wiring/daemon_edge.h"
#include "vrrpd/wiring/router_runtime.h"

namespace pgvrrpd {

class Daemon {
 public:
  // `loop` (not opened yet) and `edge` must outlive the Daemon.
  Daemon(Config config, EventLoop& loop, DaemonEdge& edge);
  ~Daemon();

  // Opens the loop and everything else and starts the routers; an error
  // here means nothing was changed on the system and the process should
  // exit non-zero.
  Status start();
  // Runs until SIGTERM/SIGINT, then shuts the routers down (priority 0
  // adverts, VIPs removed).
  Status run();

  // What the statistics line reports (SIGUSR1, exit).
  uint64_t received() const { return received_; }
  uint64_t dropped(vrrp::Reject reason) const { return dropped_[static_cast<size_t>(reason)]; }
  // nullptr when no router has that name.
  const RouterRuntime* find_router(std::string_view name) const;
  // systemd's notifications (Type=notify, WatchdogSec), when pgvrrpd runs
  // under it: READY=1 once every router has decided its initial role,
  // STATUS= with the routers' states, STOPPING=1, WATCHDOG=1 from the event
  // loop only (a stuck loop stops the pings and systemd restarts pgvrrpd).
  // Before start(); `notify` must outlive the Daemon.
  void set_systemd(const SystemdNotify* notify) { systemd_ = notify; }
  // The answer to one control socket request (control_status.cc):
  // "status" (text for people) or "status json" (pgvrrpctl(8)'s schema).
  std::string control(std::string_view request);

  // What a reload reads: the config file, checked as at start-up (file
  // security, libpq, program security). Before start().
  using ConfigReader = std::function<ConfigResult()>;
  void set_config_reader(ConfigReader reader) { config_reader_ = std::move(reader); }
  // SIGHUP and pgvrrpctl reload: re-reads the file. An invalid file, or one
  // whose changes this daemon cannot apply while running, changes nothing;
  // the answer (and the log) says why, every error as file:line. Applied
  // now: node, metrics_file, metrics_interval. Routers and checks must be
  // as running: their changes need a restart (pgvrrpd(8), RELOAD). The
  // answer starts with "error: " when nothing was applied.
  std::string reload();

 private:
  // The routers of one interface and family share one socket and announcer.
  struct Link {
    std::string interface;
    int ifindex = 0;
    Family family = Family::ipv4;
    std::unique_ptr<VrrpSocket> socket;
    std::unique_ptr<Announcer> announcer;
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
  // Makes the checker for `check`, tracked by `tracker` (an exec check runs
  // as its hook_user); a postgres one is also kept, typed, in
  // postgres_checks_.
  Result<std::unique_ptr<checkers::Checker>> make_checker(const CheckConfig& check,
                                                          const RouterConfig& tracker);
  Status start_hooks();
  void on_signal(int signal);
  void stop_when_settled();
  void log_statistics() const;
  std::string status_text() const;
  // The metrics file's text (metrics.cc) and its atomic rewrite.
  std::string metrics_text() const;
  void write_metrics();
  std::string status_json() const;
  void start_systemd_notifications();
  void start_metrics();
  void on_router_change();
  void notify_systemd(const std::string& message);

  Config config_;
  EventLoop& loop_;
  DaemonEdge& edge_;
  std::unique_ptr<Netlink> netlink_;
  std::map<std::pair<int, Family>, std::unique_ptr<Link>> links_;
  std::vector<std::unique_ptr<RouterRuntime>> routers_;
  std::map<std::string, std::unique_ptr<checkers::Checker>> checks_;  // tracked ones, by name
  // The same checks' config, in config_ (which never changes once started).
  std::map<std::string, const CheckConfig*> checker_configs_;
  std::map<std::string, checkers::PostgresChecker*> postgres_checks_;  // the postgres ones
  std::map<std::string, std::unique_ptr<LinkCheck>> link_checks_;  // by interface
  std::unique_ptr<Timer> shutdown_timer_;  // waits for on_stop hooks and VIP removals
  TimePoint shutdown_deadline_{};
  std::array<uint64_t, static_cast<size_t>(vrrp::Reject::count_)> dropped_{};
  std::array<TimePoint, static_cast<size_t>(vrrp::Reject::count_)> last_drop_log_{};
  uint64_t received_ = 0;
  TimePoint started_at_{};
  const SystemdNotify* systemd_ = nullptr;
  bool ready_sent_ = false;
  bool systemd_failed_ = false;  // one warning, not one per message
  std::vector<vrrp::State> notified_states_;
  std::unique_ptr<PeriodicTimer> watchdog_;
  std::unique_ptr<PeriodicTimer> metrics_timer_;
  ConfigReader config_reader_;
  bool metrics_failing_ = false;  // warned; said again when it works
};

}  // namespace pgvrrpd
