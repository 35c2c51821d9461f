// Wiring: opens the interface resources the configured routers need (VRRP
// sockets, announcers, netlink) through a DaemonEdge, dispatches received
// adverts to routers and runs the event loop until SIGTERM/SIGINT.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <string_view>

#include "checkers/checker.h"
#include "checkers/postgres_checker.h"
#include "vrrpd/config/config.h"
#include "vrrpd/config/config_diff.h"
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
  // SIGHUP and pgvrrpctl reload (daemon_reload.cc): re-reads the file. An
  // invalid file, or one this daemon cannot apply while running, changes
  // nothing; the answer (and the log) says why, every error as file:line,
  // and starts with "error: ". Otherwise node and the metrics settings
  // apply at once; routers that read the same keep their state, VIPs and
  // checks; removed and changed routers stop as at shutdown (priority 0
  // advert, VIPs removed, on_stop hooks) and, once settled, the added and
  // changed ones start, fed the verdicts their checks already have. A
  // changed router that is MASTER is refused: restarting it would hand the
  // VIP (and the primary) to the peer. systemd sees RELOADING=1 until then.
  std::string reload();
  // A reload is stopping routers and has not started the new ones yet.
  bool reloading() const { return pending_config_ != nullptr; }

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
    bool multicast = false;     // the socket joined the VRRP group
  };
  // Checkers, link checks and links opened for routers being started; they
  // start (and open) after the routers have.
  struct NewWatchers {
    std::vector<checkers::Checker*> checks;
    std::vector<std::pair<std::string, LinkCheck*>> links;
  };
  struct Verdict {
    bool passing;
    std::string reason;
  };

  Status open_link(const RouterConfig& router, Link*& out);
  // Opens what `rc` needs and makes its runtime (not started): appended to
  // routers_ and `fresh`, with whether its VIPs are already on the link.
  Status add_router(const RouterConfig& rc, std::vector<RouterRuntime*>& fresh,
                    std::vector<bool>& vips_present);
  // Hooks, checks and link checks of the `fresh` routers: their checkers
  // made where none runs yet, every check's listeners rebuilt.
  Status start_hooks(const std::vector<RouterRuntime*>& fresh);
  Status wire_checks(const std::vector<RouterRuntime*>& fresh, NewWatchers& added);
  void rewire_listeners();
  // Starts the wired `fresh` routers, then the new checkers and link checks.
  Status start_routers(const std::vector<RouterRuntime*>& fresh,
                       const std::vector<bool>& vips_present, const NewWatchers& added);
  // Reload (daemon_reload.cc).
  std::optional<std::string> reload_blocker(const ReloadPlan& plan, const Config& next);
  void retire(const std::string& name);
  void finish_reload_when_settled();
  void finish_reload();
  void close_unused();
  void keep_config_alive(std::shared_ptr<Config> next);
  // The address our adverts come from (and the tie-break uses).
  Result<IpAddress> source_address(const RouterConfig& router, int ifindex,
                                   const std::vector<IpPrefix>& existing);
  void on_readable(Link& link);
  void dispatch(Link& link, const VrrpSocket::Received& packet);
  void drop(const Link& link, const vrrp::PacketContext& context, vrrp::Reject reason);
  // Makes the checker for `check`, tracked by `tracker` (an exec check runs
  // as its hook_user); a postgres one is also kept, typed, in
  // postgres_checks_.
  Result<std::unique_ptr<checkers::Checker>> make_checker(const CheckConfig& check,
                                                          const RouterConfig& tracker);
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

  // The running configuration. Routers and checks kept across a reload
  // still refer to the file they were started from: retained_configs_
  // keeps those alive while anything refers into them.
  std::shared_ptr<Config> config_;
  std::vector<std::shared_ptr<const Config>> retained_configs_;
  EventLoop& loop_;
  DaemonEdge& edge_;
  std::unique_ptr<Netlink> netlink_;
  std::map<std::pair<int, Family>, std::unique_ptr<Link>> links_;
  std::vector<std::unique_ptr<RouterRuntime>> routers_;
  // Stopped by a reload, until their hooks and VIP removals are done.
  std::vector<std::unique_ptr<RouterRuntime>> retiring_;
  std::map<std::string, std::unique_ptr<checkers::Checker>> checks_;  // tracked ones, by name
  // The config each checker was made from (one of the retained configs).
  std::map<std::string, const CheckConfig*> checker_configs_;
  // The last verdict of each check and link: a router a reload starts is
  // told it at once, as the routers that were there have been.
  std::map<std::string, Verdict> check_verdicts_;
  std::map<std::string, Verdict> link_verdicts_;
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
  std::shared_ptr<Config> pending_config_;  // a reload's file, while routers retire
  std::vector<std::string> pending_changed_checks_;
  std::string last_reload_;  // how the last reload that changed routers ended
  std::unique_ptr<Timer> reload_timer_;
  TimePoint reload_deadline_{};
  bool metrics_failing_ = false;  // warned; said again when it works
};

}  // namespace pgvrrpd
