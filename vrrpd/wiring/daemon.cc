#include "vrrpd/wiring/daemon.h"

#include <sys/epoll.h>

#include <algorithm>
#include <csignal>

#include "checkers/exec_checker.h"
#include "checkers/ping_checker_linux.h"
#include "checkers/postgres_checker.h"
#include "notify/hook_runner.h"
#include "notify/run_as_linux.h"
#include "vrrpd/basics/log.h"
#include "vrrpd/core/receive_filter.h"

namespace pgvrrpd {

namespace {
// Bounded work per wake-up so one flooded interface cannot starve timers.
constexpr int kMaxPacketsPerWake = 64;
// Drops are counted always but logged at most this often per reason.
constexpr auto kDropLogInterval = std::chrono::seconds(10);
}  // namespace

Daemon::Daemon(Config config) : config_(std::move(config)) {}
Daemon::~Daemon() = default;

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
  bool multicast = std::any_of(config_.routers.begin(), config_.routers.end(), [&](auto& r) {
    return r.interface == router.interface && r.params.family == router.params.family &&
           r.params.unicast_peers.empty();
  });
  if (auto s = link->socket.open(router.interface, *ifindex, router.params.family, multicast); !s)
    return s;
  auto mac = netlink_->mac(*ifindex);
  if (!mac) return mac.status().with_context(router.interface);
  if (auto s = link->announcer.open(*ifindex, *mac, router.params.family); !s)
    return s.with_context(fmt::format("announcer on {}", router.interface));
  Link* raw = link.get();
  if (auto s = loop_.watch(raw->socket.fd(), EPOLLIN, [this, raw](uint32_t) { on_readable(*raw); });
      !s)
    return s;
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
      bool is_vip = std::find(vips.begin(), vips.end(), a.address) != vips.end();
      if (!a.address.is_link_local() && !is_vip) return a.address;
    }
    return Status::error(fmt::format("router {}: no global IPv6 address on {} to send unicast "
                                     "adverts from (set unicast_source)",
                                     rc.params.name, rc.interface));
  }
  auto p = netlink_->primary_address(ifindex, rc.params.family, rc.virtual_ips);
  if (!p)
    return p.status().with_context(
        fmt::format("router {}: no source address on {}", rc.params.name, rc.interface));
  return *p;
}

Status Daemon::start() {
  if (auto s = loop_.open(); !s) return s;
  auto netlink = Netlink::open();
  if (!netlink) return netlink.status();
  netlink_ = std::make_unique<Netlink>(std::move(*netlink));

  std::vector<bool> vips_present;
  for (auto& rc : config_.routers) {
    // Promote before the VIP: a router that follows a postgres check adds
    // its VIPs only once the local server accepts writes, and gives up if
    // the promotion takes longer than hook_timeout.
    for (const auto& c : config_.checks)
      if (c.type == CheckType::postgres &&
          std::count(rc.track.begin(), rc.track.end(), c.name)) {
        rc.params.gate_vips_on_serving = true;
        rc.params.serving_timeout = rc.hooks.timeout;
      }
    Link* link = nullptr;
    if (auto s = open_link(rc, link); !s) return s;
    auto existing = netlink_->addresses(link->ifindex, rc.params.family);
    if (!existing) return existing.status();
    auto primary = source_address(rc, link->ifindex, *existing);
    if (!primary) return primary.status();
    bool present = std::any_of(rc.virtual_ips.begin(), rc.virtual_ips.end(), [&](auto& vip) {
      return std::find(existing->begin(), existing->end(), vip) != existing->end();
    });
    vips_present.push_back(present);
    IpAddress link_local;
    if (rc.params.family == Family::ipv6) {
      auto ll = netlink_->primary_address(link->ifindex, Family::ipv6, rc.virtual_ips);
      if (!ll) return ll.status().with_context(fmt::format("router {}", rc.params.name));
      link_local = *ll;
    }
    routers_.push_back(std::make_unique<RouterRuntime>(
        loop_, RouterLinks{*netlink_, link->socket, link->announcer, link->ifindex, link_local},
        rc, *primary));
    link->by_vrid[rc.params.vrid] = routers_.back().get();
    link->slots[rc.params.vrid] = {&rc.params, *primary};
    log::info("router {}: {} vrid {} version {} on {} priority {} interval {}s source {}{}",
              rc.params.name, family_name(rc.params.family), rc.params.vrid, rc.params.version,
              rc.interface, rc.params.priority, rc.params.advert_interval.count() / 100.0,
              primary->to_string(), present ? ", VIPs already present" : "");
  }

  auto status = loop_.handle_signals({SIGTERM, SIGINT, SIGHUP, SIGUSR1},
                                     [this](int signal) { on_signal(signal); });
  if (!status) return status;
  if (auto s = start_hooks(); !s) return s;
  if (auto s = start_checks(); !s) return s;
  for (size_t i = 0; i < routers_.size(); ++i) {
    routers_[i]->policy().reevaluate();  // checks without a verdict hold takeover
    routers_[i]->start(vips_present[i]);
  }
  for (auto& [name, check] : checks_) check->start();
  for (auto& [name, link] : link_checks_)
    if (auto s = link->open(); !s) return s.with_context(fmt::format("link state of {}", name));
  return Status::success();
}

Status Daemon::start_hooks() {
  for (auto& r : routers_) {
    const RouterConfig& rc = r->config();
    const HookConfig& h = rc.hooks;
    notify::HookConfig hc;
    hc.id = {rc.params.name, rc.params.vrid};
    bool any = false;
    for (auto [kind, command] : {std::pair{notify::HookKind::on_master, &h.on_master},
                                 std::pair{notify::HookKind::on_backup, &h.on_backup},
                                 std::pair{notify::HookKind::on_fault, &h.on_fault},
                                 std::pair{notify::HookKind::on_stop, &h.on_stop},
                                 std::pair{notify::HookKind::notify, &h.notify},
                                 std::pair{notify::HookKind::fence, &h.fence},
                                 std::pair{notify::HookKind::rejoin, &h.rejoin}}) {
      if (command->empty()) continue;
      hc.command(kind) = notify::Command{command->argv};
      any = true;
    }
    if (!any) continue;
    hc.timeout = h.timeout;
    hc.extra_env = h.env;
    auto run_as = notify::resolve_hook_user(h.user);
    if (!run_as) return run_as.status().with_context(fmt::format("router {}", rc.params.name));
    hc.run_as = *run_as;
    r->policy().set_hooks(std::make_unique<notify::HookRunner>(loop_, std::move(hc)));
  }
  return Status::success();
}

Status Daemon::start_checks() {
  auto find = [this](const std::string& name) -> const CheckConfig* {
    for (const auto& c : config_.checks)
      if (c.name == name) return &c;
    return nullptr;
  };
  for (auto& r : routers_) {
    for (const auto& name : r->config().track) {
      const CheckConfig* check = find(name);
      if (!check) return Status::error(fmt::format("router {} tracks unknown check {}",
                                                   r->config().params.name, name));
      r->policy().track(*check);
      if (checks_.count(name)) continue;
      std::unique_ptr<checkers::Checker> made;
      switch (check->type) {
        case CheckType::postgres: {
          checkers::PostgresCheckParams p;
          p.conninfo = check->conninfo;
          p.peer_conninfo = check->peer_conninfo;
          p.max_lag_bytes = check->max_lag_bytes;
          p.interval = check->interval;
          p.timeout = check->timeout;
          p.rise = check->rise;
          p.fall = check->fall;
          made = std::make_unique<checkers::PostgresChecker>(loop_, name, p);
          break;
        }
        case CheckType::ping:
          made = std::make_unique<checkers::PingChecker>(
              loop_, name,
              checkers::PingParams{*check->target, check->interval, check->timeout, check->rise,
                                   check->fall});
          break;
        case CheckType::exec: {
          // As hook_user, which every router tracking it shares (config).
          auto run_as = notify::resolve_hook_user(r->config().hooks.user);
          if (!run_as) return run_as.status().with_context(fmt::format("check {}", name));
          made = std::make_unique<checkers::ExecChecker>(
              loop_, name,
              checkers::ExecParams{check->command.argv, check->interval, check->timeout,
                                   check->rise, check->fall, *run_as});
          break;
        }
      }
      checks_.emplace(name, std::move(made));
    }
  }
  // Each check tells every router that tracks it; a postgres check also
  // feeds the failover policy of the routers that track it.
  for (auto& [name, checker] : checks_) {
    const CheckConfig* check = find(name);
    std::vector<RouterRuntime*> trackers;
    for (auto& r : routers_)
      if (std::count(r->config().track.begin(), r->config().track.end(), name))
        trackers.push_back(r.get());
    checker->set_listener([trackers, check](bool passing, const std::string& reason) {
      for (auto* r : trackers) r->policy().on_check(*check, passing, reason);
    });
    if (check->type == CheckType::postgres) {
      auto* pg = static_cast<checkers::PostgresChecker*>(checker.get());
      for (auto* r : trackers) r->policy().attach_postgres(*pg, *check);
      pg->set_facts_listener([trackers](const checkers::PgFacts&, uint32_t) {
        for (auto* r : trackers) r->policy().reevaluate();
      });
    }
  }
  // Every router's interface: a lost link is a fault.
  for (auto& r : routers_) {
    const std::string& iface = r->config().interface;
    r->policy().track_link();
    if (link_checks_.count(iface)) continue;
    std::vector<RouterRuntime*> on_iface;
    for (auto& other : routers_)
      if (other->config().interface == iface) on_iface.push_back(other.get());
    auto link = std::make_unique<checkers::LinkChecker>(loop_, iface);
    link->set_listener([on_iface](bool up, const std::string& reason) {
      for (auto* x : on_iface) x->policy().on_link(up, reason);
    });
    link_checks_.emplace(iface, std::move(link));
  }
  return Status::success();
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
      for (auto& r : routers_) r->shutdown();
      stop_when_hooks_done();
      break;
    case SIGUSR1:
      log_statistics();
      break;
    case SIGHUP:
      log::warning("SIGHUP: configuration reload is not supported yet; restart to apply changes");
      break;
  }
}

void Daemon::stop_when_hooks_done() {
  // on_stop (and a running promote or fence) may still run: give them
  // their hook_timeout, then leave; the runners kill what is left.
  Duration longest{};
  for (auto& r : routers_) longest = std::max(longest, r->config().hooks.timeout);
  shutdown_deadline_ = loop_.now() + longest;
  shutdown_timer_ = std::make_unique<Timer>(loop_, [this] {
    bool idle = std::all_of(routers_.begin(), routers_.end(),
                            [](auto& r) { return r->policy().hooks_idle(); });
    if (idle || loop_.now() >= shutdown_deadline_) {
      if (!idle) log::warning("hooks still running at shutdown: killing them");
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
    auto r = link.socket.receive();
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
  log::info("statistics: received={} dropped:{}", received_, drops.empty() ? " none" : drops);
  for (const auto& r : routers_)
    log::info("router {}: state {}", r->config().params.name, vrrp::state_name(r->router().state()));
}

}  // namespace pgvrrpd
