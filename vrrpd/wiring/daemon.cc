#include "vrrpd/wiring/daemon.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>

#include <fmt/ranges.h>

#include "checkers/exec_checker.h"
#include "checkers/ping_checker_linux.h"
#include "checkers/postgres_checker.h"
#include "notify/hook_runner.h"
#include "notify/run_as_linux.h"
#include "vrrpd/basics/log.h"
#include "vrrpd/config/config_diff.h"
#include "vrrpd/wiring/hook_setup.h"
#include "vrrpd/core/receive_filter.h"

namespace pgvrrpd {

namespace {
// Bounded work per wake-up so one flooded interface cannot starve timers.
constexpr int kMaxPacketsPerWake = 64;
// Drops are counted always but logged at most this often per reason.
constexpr auto kDropLogInterval = std::chrono::seconds(10);
}  // namespace

Daemon::Daemon(Config config, EventLoop& loop, DaemonEdge& edge)
    : config_(std::make_shared<Config>(std::move(config))), loop_(loop), edge_(edge) {}

Daemon::~Daemon() {
  // The loop outlives us: it must not call back into a Link.
  for (auto& [key, link] : links_) loop_.unwatch(link->socket->fd());
}

const RouterRuntime* Daemon::find_router(std::string_view name) const {
  for (const auto& r : routers_)
    if (r->config().params.name == name) return r.get();
  return nullptr;
}

Status Daemon::open_link(const RouterConfig& router, Link*& out) {
  auto ifindex = netlink_->ifindex(router.interface);
  if (!ifindex) return ifindex.status().with_context(fmt::format("router {}", router.params.name));
  auto key = std::make_pair(*ifindex, router.params.family);
  if (auto it = links_.find(key); it != links_.end()) {
    out = it->second.get();
    return Status::success();
  }
  auto link = std::make_unique<Link>();
  link->interface = router.interface;
  link->ifindex = *ifindex;
  link->family = router.params.family;
  bool multicast = std::any_of(config_->routers.begin(), config_->routers.end(), [&](auto& r) {
    return r.interface == router.interface && r.params.family == router.params.family &&
           r.params.unicast_peers.empty();
  });
  auto socket = edge_.open_socket(router.interface, *ifindex, router.params.family, multicast);
  if (!socket) return socket.status();
  link->socket = std::move(*socket);
  link->multicast = multicast;
  auto mac = netlink_->mac(*ifindex);
  if (!mac) return mac.status().with_context(router.interface);
  auto announcer = edge_.open_announcer(*ifindex, *mac, router.params.family);
  if (!announcer)
    return announcer.status().with_context(fmt::format("announcer on {}", router.interface));
  link->announcer = std::move(*announcer);
  Link* raw = link.get();
  auto readable = [this, raw](uint32_t) { on_readable(*raw); };
  if (auto s = loop_.watch(raw->socket->fd(), EPOLLIN, readable); !s) return s;
  out = raw;
  links_.emplace(key, std::move(link));
  return Status::success();
}

Result<IpAddress> Daemon::source_address(const RouterConfig& rc, int ifindex,
                                         const std::vector<IpPrefix>& existing) {
  if (rc.unicast_source) return *rc.unicast_source;
  if (rc.params.family == Family::ipv6 && !rc.params.unicast_peers.empty()) {
    // Unicast peers list each other's global addresses and accept adverts
    // only from those, so a link-local source (the multicast rule, RFC 5798
    // 5.1.2.1) would be dropped by the peer.
    const auto& vips = rc.params.virtual_ips;
    for (const auto& a : existing) {
      bool is_vip = std::any_of(vips.begin(), vips.end(),
                                [&](const IpPrefix& vip) { return vip.address == a.address; });
      if (!a.address.is_link_local() && !is_vip) return a.address;
    }
    return Status::error(fmt::format("router {}: no global IPv6 address on {} to send unicast "
                                     "adverts from (set unicast_source)",
                                     rc.params.name, rc.interface));
  }
  auto p = netlink_->primary_address(ifindex, rc.params.family, rc.params.virtual_ips);
  if (!p)
    return p.status().with_context(
        fmt::format("router {}: no source address on {}", rc.params.name, rc.interface));
  return *p;
}

Status Daemon::start() {
  if (auto s = loop_.open(); !s) return s;
  started_at_ = loop_.now();
  auto netlink = edge_.open_netlink();
  if (!netlink) return netlink.status();
  netlink_ = std::move(*netlink);

  std::vector<RouterRuntime*> fresh;
  std::vector<bool> vips_present;
  for (auto& rc : config_->routers)
    if (auto s = add_router(rc, fresh, vips_present); !s) return s;
  auto status = edge_.handle_signals(loop_, {SIGTERM, SIGINT, SIGHUP, SIGUSR1},
                                     [this](int signal) { on_signal(signal); });
  if (!status) return status;
  if (auto s = start_hooks(fresh); !s) return s;
  NewWatchers added;
  if (auto s = wire_checks(fresh, added); !s) return s;
  if (auto s = start_routers(fresh, vips_present, added); !s) return s;
  start_systemd_notifications();
  start_metrics();
  return Status::success();
}

Status Daemon::add_router(const RouterConfig& rc, std::vector<RouterRuntime*>& fresh,
                          std::vector<bool>& vips_present) {
  Link* link = nullptr;
  if (auto s = open_link(rc, link); !s) return s;
  auto existing = netlink_->addresses(link->ifindex, rc.params.family);
  if (!existing) return existing.status();
  auto primary = source_address(rc, link->ifindex, *existing);
  if (!primary) return primary.status();
  const auto& vips = rc.params.virtual_ips;
  bool present = std::any_of(vips.begin(), vips.end(), [&](const IpPrefix& vip) {
    return std::find(existing->begin(), existing->end(), vip) != existing->end();
  });
  IpAddress link_local;
  if (rc.params.family == Family::ipv6) {
    auto ll = netlink_->primary_address(link->ifindex, Family::ipv6, rc.params.virtual_ips);
    if (!ll) return ll.status().with_context(fmt::format("router {}", rc.params.name));
    link_local = *ll;
  }
  routers_.push_back(std::make_unique<RouterRuntime>(
      loop_, RouterLinks{*netlink_, *link->socket, *link->announcer, link->ifindex, link_local},
      rc, *primary));
  fresh.push_back(routers_.back().get());
  vips_present.push_back(present);
  link->by_vrid[rc.params.vrid] = routers_.back().get();
  link->slots[rc.params.vrid] = {&rc.params, *primary};
  log::info("router {}: {} vrid {} version {} on {} priority {} interval {}s source {}{}",
            rc.params.name, family_name(rc.params.family), rc.params.vrid, rc.params.version,
            rc.interface, rc.params.priority, rc.params.advert_interval.count() / 100.0,
            primary->to_string(), present ? ", VIPs already present" : "");
  return Status::success();
}

Status Daemon::start_routers(const std::vector<RouterRuntime*>& fresh,
                             const std::vector<bool>& vips_present, const NewWatchers& added) {
  for (size_t i = 0; i < fresh.size(); ++i) {
    fresh[i]->policy().reevaluate();  // checks without a verdict hold takeover
    fresh[i]->start(vips_present[i]);
  }
  // What the checks and links that already ran have said (a reload).
  for (RouterRuntime* r : fresh) {
    for (const std::string& name : r->config().track)
      if (auto v = check_verdicts_.find(name); v != check_verdicts_.end())
        r->policy().on_check(*checker_configs_.at(name), v->second.passing, v->second.reason);
    if (auto v = link_verdicts_.find(r->config().interface); v != link_verdicts_.end())
      r->policy().on_link(v->second.passing, v->second.reason);
  }
  for (checkers::Checker* check : added.checks) check->start();
  for (auto& [name, link] : added.links)
    if (auto s = link->open(); !s) return s.with_context(fmt::format("link state of {}", name));
  return Status::success();
}

void Daemon::start_metrics() {
  metrics_timer_.reset();
  metrics_failing_ = false;
  if (config_->metrics_file.empty()) return;
  metrics_timer_ = std::make_unique<PeriodicTimer>(loop_, config_->metrics_interval,
                                                   [this] { write_metrics(); });
  metrics_timer_->start();
}

void Daemon::write_metrics() {
  // A temporary file beside it, then rename: node_exporter never reads half
  // a file. A few kilobytes to a local disk: written on the loop.
  const std::string& path = config_->metrics_file;
  std::string temporary = path + ".tmp";
  std::string text = metrics_text();
  Status status;
  int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    status = Status::from_errno(temporary);
  } else {
    size_t done = 0;
    while (done < text.size()) {
      ssize_t n = write(fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        status = Status::from_errno(temporary);
        break;
      }
      done += static_cast<size_t>(n);
    }
    if (close(fd) != 0 && status) status = Status::from_errno(temporary);
    if (status && rename(temporary.c_str(), path.c_str()) != 0) status = Status::from_errno(path);
    if (!status) unlink(temporary.c_str());
  }
  if (!status && !metrics_failing_) {
    metrics_failing_ = true;
    log::warning("cannot write the metrics file: {} (said once until it works again)",
                 status.message());
  } else if (status && metrics_failing_) {
    metrics_failing_ = false;
    log::info("metrics file {} written again", path);
  }
}

void Daemon::start_systemd_notifications() {
  if (systemd_ == nullptr || !systemd_->active()) return;
  for (auto& r : routers_) r->set_change_listener([this] { on_router_change(); });
  // Routers a reload starts later get the same listener (finish_reload).
  if (auto interval = systemd_->watchdog()) {
    // Twice per WatchdogSec, as sd_watchdog_enabled(3) advises. From a
    // timer of this loop: while the loop is stuck, no ping goes out.
    watchdog_ = std::make_unique<PeriodicTimer>(
        loop_, std::chrono::duration_cast<Duration>(*interval) / 2,
        [this] { notify_systemd("WATCHDOG=1"); });
    watchdog_->start();
  }
  on_router_change();
}

void Daemon::on_router_change() {
  // Cheap when nothing changed: this runs after every advert.
  bool changed = notified_states_.size() != routers_.size();
  for (size_t i = 0; !changed && i < routers_.size(); ++i)
    changed = notified_states_[i] != routers_[i]->router().state();
  // Decided: master once, heard a master, FAULT, or held back by the
  // takeover guard (which may last). Until then systemd waits in
  // "activating", and units ordered after pgvrrpd wait with it.
  bool ready = std::all_of(routers_.begin(), routers_.end(), [](const auto& r) {
    const vrrp::Router& router = r->router();
    return router.decided() || router.state() == vrrp::State::fault || router.takeover_held();
  });
  if (!changed && (ready_sent_ || !ready)) return;
  notified_states_.clear();
  std::string status = "STATUS=";
  for (size_t i = 0; i < routers_.size(); ++i) {
    notified_states_.push_back(routers_[i]->router().state());
    status += fmt::format("{}{} {}", i ? ", " : "", routers_[i]->config().params.name,
                          vrrp::state_name(notified_states_.back()));
  }
  if (ready && !ready_sent_) {
    ready_sent_ = true;
    status = "READY=1\n" + status;
  }
  notify_systemd(status);
}

void Daemon::notify_systemd(const std::string& message) {
  if (systemd_ == nullptr) return;
  auto sent = systemd_->send(message);
  if (sent || systemd_failed_) return;
  systemd_failed_ = true;
  log::warning("cannot notify systemd: {} (logged once)", sent.message());
}

Status Daemon::start_hooks(const std::vector<RouterRuntime*>& fresh) {
  for (RouterRuntime* r : fresh) {
    const RouterConfig& rc = r->config();
    if (!has_hooks(rc.hooks)) continue;
    auto run_as = notify::resolve_hook_user(rc.hooks.user);
    if (!run_as) return run_as.status().with_context(fmt::format("router {}", rc.params.name));
    r->policy().set_hooks(std::make_unique<notify::HookRunner>(loop_, hook_setup(rc, *run_as)));
  }
  return Status::success();
}

Result<std::unique_ptr<checkers::Checker>> Daemon::make_checker(const CheckConfig& check,
                                                                const RouterConfig& tracker) {
  checker_configs_.emplace(check.name, &check);
  switch (check.type) {
    case CheckType::postgres: {
      checkers::PostgresCheckParams p;
      p.conninfo = check.conninfo;
      p.peer_conninfo = check.peer_conninfo;
      p.max_lag_bytes = check.max_lag_bytes;
      p.interval = check.interval;
      p.timeout = check.timeout;
      p.rise = check.rise;
      p.fall = check.fall;
      auto pg = std::make_unique<checkers::PostgresChecker>(loop_, check.name, p);
      postgres_checks_.emplace(check.name, pg.get());
      return std::unique_ptr<checkers::Checker>(std::move(pg));
    }
    case CheckType::ping:
      return std::unique_ptr<checkers::Checker>(std::make_unique<checkers::PingChecker>(
          loop_, check.name,
          checkers::PingParams{*check.target, check.interval, check.timeout, check.rise,
                               check.fall}));
    case CheckType::exec: {
      // As hook_user, which every router tracking it shares (config).
      auto run_as = notify::resolve_hook_user(tracker.hooks.user);
      if (!run_as) return run_as.status().with_context(fmt::format("check {}", check.name));
      return std::unique_ptr<checkers::Checker>(std::make_unique<checkers::ExecChecker>(
          loop_, check.name,
          checkers::ExecParams{check.command.argv, check.interval, check.timeout, check.rise,
                               check.fall, *run_as}));
    }
  }
  return Status::error(fmt::format("check {}: unknown type", check.name));
}

Status Daemon::wire_checks(const std::vector<RouterRuntime*>& fresh, NewWatchers& added) {
  for (RouterRuntime* r : fresh) {
    // A check that runs already (kept by a reload) is shared as it is: its
    // section reads the same, or the routers tracking it would have changed.
    for (const CheckConfig* check : tracked_checks(*config_, r->config())) {
      if (!checks_.count(check->name)) {
        auto made = make_checker(*check, r->config());
        if (!made) return made.status();
        added.checks.push_back(made->get());
        checks_.emplace(check->name, std::move(*made));
      }
      r->policy().track(*checker_configs_.at(check->name));
    }
    if (const CheckConfig* check = tracked_postgres_check(*config_, r->config()))
      r->policy().attach_postgres(*postgres_checks_.at(check->name),
                                  *checker_configs_.at(check->name));
    // Every router's interface: a lost link is a fault.
    const std::string& iface = r->config().interface;
    r->policy().track_link();
    if (!link_checks_.count(iface)) {
      auto link = edge_.make_link_check(loop_, iface);
      added.links.emplace_back(iface, link.get());
      link_checks_.emplace(iface, std::move(link));
    }
  }
  rewire_listeners();
  return Status::success();
}

void Daemon::rewire_listeners() {
  // Each check tells every router that tracks it; a postgres check also
  // feeds the failover policy of the routers that track it.
  for (auto& [name, checker] : checks_) {
    const CheckConfig& check = *checker_configs_.at(name);
    std::vector<RouterRuntime*> trackers;
    for (auto& r : routers_)
      if (std::count(r->config().track.begin(), r->config().track.end(), name))
        trackers.push_back(r.get());
    checker->set_listener([this, trackers, &check](bool passing, const std::string& reason) {
      check_verdicts_[check.name] = {passing, reason};
      for (auto* r : trackers) r->policy().on_check(check, passing, reason);
    });
  }
  for (auto& [name, pg] : postgres_checks_) {
    std::vector<RouterRuntime*> followers;
    for (auto& r : routers_)
      if (std::count(r->config().track.begin(), r->config().track.end(), name))
        followers.push_back(r.get());
    pg->set_facts_listener([followers](const checkers::PgFacts&, uint32_t) {
      for (auto* r : followers) r->policy().reevaluate();
    });
  }
  for (auto& [iface, link] : link_checks_) {
    std::vector<RouterRuntime*> on_iface;
    for (auto& r : routers_)
      if (r->config().interface == iface) on_iface.push_back(r.get());
    link->set_listener([this, iface = iface, on_iface](bool up, const std::string& reason) {
      link_verdicts_[iface] = {up, reason};
      for (auto* r : on_iface) r->policy().on_link(up, reason);
    });
  }
}

Status Daemon::run() {
  auto status = loop_.run();
  log_statistics();
  return status;
}

void Daemon::on_signal(int signal) {
  switch (signal) {
    case SIGTERM:
    case SIGINT:
      if (shutdown_timer_) break;  // already stopping
      log::info("received {}, shutting down", signal == SIGTERM ? "SIGTERM" : "SIGINT");
      notify_systemd("STOPPING=1");
      if (pending_config_) {
        log::info("reload: not starting the new routers: shutting down");
        reload_timer_.reset();
        pending_config_.reset();
      }
      for (auto& r : routers_) r->shutdown();
      stop_when_settled();
      break;
    case SIGUSR1:
      log_statistics();
      break;
    case SIGHUP:
      log::info("SIGHUP: re-reading the configuration");
      reload();
      break;
  }
}

void Daemon::stop_when_settled() {
  // on_stop (and a running promote or fence) may still run, and a VIP
  // removal that failed is being retried (a VIP left behind, permanent or
  // until its lease ends, answers beside the new master's): give them the
  // longest hook_timeout, then leave; the runners kill what is left.
  Duration longest{};
  for (auto& r : routers_) longest = std::max(longest, r->config().hooks.timeout);
  for (auto& r : retiring_) longest = std::max(longest, r->config().hooks.timeout);
  shutdown_deadline_ = loop_.now() + longest;
  shutdown_timer_ = std::make_unique<Timer>(loop_, [this] {
    auto idle = [](auto& r) { return r->policy().hooks_idle(); };
    auto removing = [](auto& r) { return r->removing_vips(); };
    bool hooks_idle = std::all_of(routers_.begin(), routers_.end(), idle) &&
                      std::all_of(retiring_.begin(), retiring_.end(), idle);
    bool vips_gone = std::none_of(routers_.begin(), routers_.end(), removing) &&
                     std::none_of(retiring_.begin(), retiring_.end(), removing);
    if ((hooks_idle && vips_gone) || loop_.now() >= shutdown_deadline_) {
      if (metrics_timer_) write_metrics();  // the last states, not the ones before the stop
      if (!hooks_idle) log::warning("hooks still running at shutdown: killing them");
      if (!vips_gone)
        log::error("VIPs could not be removed before shutdown: they stay until their lease "
                   "ends (or for good, with vip_lease = 0)");
      loop_.stop();
      return;
    }
    shutdown_timer_->arm(loop_.now() + std::chrono::milliseconds(20));
  });
  shutdown_timer_->arm(loop_.now());
}

void Daemon::on_readable(Link& link) {
  using Outcome = VrrpSocket::ReceiveResult::Outcome;
  for (int i = 0; i < kMaxPacketsPerWake; ++i) {
    auto r = link.socket->receive();
    switch (r.outcome) {
      case Outcome::drained: return;
      case Outcome::error: log::warning("{}", r.error.message()); return;
      case Outcome::malformed:
        ++received_;
        drop(link, {}, vrrp::Reject::bad_ip_header);
        break;
      case Outcome::packet:
        ++received_;
        dispatch(link, r.packet);
        break;
    }
  }
}

void Daemon::dispatch(Link& link, const VrrpSocket::Received& packet) {
  auto classified = vrrp::classify(packet.message, packet.context, link.slots);
  if (classified.reject != vrrp::Reject::none)
    return drop(link, packet.context, classified.reject);
  link.by_vrid[classified.advert.vrid]->on_advert(classified.advert, packet.context);
}

void Daemon::drop(const Link& link, const vrrp::PacketContext& context, vrrp::Reject reason) {
  auto i = static_cast<size_t>(reason);
  ++dropped_[i];
  auto now = loop_.now();
  if (dropped_[i] > 1 && now - last_drop_log_[i] < kDropLogInterval) return;
  last_drop_log_[i] = now;
  log::warning("dropped advert on {} from {}: {} ({} dropped for this reason so far)",
               link.interface, context.source.to_string(), vrrp::reject_name(reason),
               dropped_[i]);
}

void Daemon::log_statistics() const {
  std::string drops;
  for (size_t i = 1; i < dropped_.size(); ++i)
    if (dropped_[i] > 0)
      drops += fmt::format(" {}={}", vrrp::reject_name(static_cast<vrrp::Reject>(i)), dropped_[i]);
  log::info("statistics: received={} longest_loop_turn_ms={} slow_loop_turns={} dropped:{}",
            received_,
            std::chrono::duration_cast<std::chrono::milliseconds>(loop_.longest_turn()).count(),
            loop_.slow_turns(), drops.empty() ? " none" : drops);
  for (const auto& r : routers_)
    log::info("router {}: state {}", r->config().params.name, vrrp::state_name(r->router().state()));
}

}  // namespace pgvrrpd
