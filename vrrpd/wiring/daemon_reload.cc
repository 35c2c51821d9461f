// Reload (SIGHUP, pgvrrpctl reload): the newly read file against the running
// one (config_diff.h), then node and metrics applied at once, removed and
// changed routers stopped as at shutdown and, once they have settled, the
// added and changed ones started. Routers that read the same are never
// touched: their state, VIPs, hooks and checks carry on.
#include <algorithm>

#include <fmt/ranges.h>

#include "notify/run_as_linux.h"
#include "vrrpd/basics/log.h"
#include "vrrpd/wiring/daemon.h"
#include "vrrpd/wiring/hook_setup.h"

namespace pgvrrpd {

namespace {

bool refers_into(const Config& config, const void* p) {
  auto inside = [p](const auto& v) {
    return !v.empty() && p >= static_cast<const void*>(v.data()) &&
           p < static_cast<const void*>(v.data() + v.size());
  };
  return inside(config.routers) || inside(config.checks);
}

std::string plural(size_t n, const char* word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

}  // namespace

std::string Daemon::reload() {
  if (shutdown_timer_) {
    log::warning("reload refused: shutting down");
    return "error: shutting down\n";
  }
  if (pending_config_) {
    log::warning("reload refused: the last reload is still stopping routers");
    return "error: the last reload is still stopping routers; try again when it is done\n";
  }
  // The loop's clock is CLOCK_MONOTONIC, as systemd wants it.
  auto started =
      std::chrono::duration_cast<std::chrono::microseconds>(loop_.now().time_since_epoch());
  notify_systemd(fmt::format("RELOADING=1\nMONOTONIC_USEC={}", started.count()));
  struct Ready {  // a refused reload: the daemon runs on as it was
    Daemon* daemon;
    bool armed = true;  // off once finish_reload() will say it
    ~Ready() {
      if (armed) daemon->notify_systemd("READY=1");
    }
  } ready{this};
  auto refuse = [](std::string why) {
    log::error("reload refused, the running configuration stays: {}", why);
    return "error: " + why + "\n";
  };
  if (!config_reader_) return refuse("no configuration file to read");
  ConfigResult read = config_reader_();
  if (!read.ok()) {
    std::string errors;
    for (const ConfigError& e : read.errors) {
      log::error("reload: {}", e.to_string());
      errors += "\n  " + e.to_string();
    }
    return refuse(fmt::format("{} error{} in the file:{}", read.errors.size(),
                              read.errors.size() == 1 ? "" : "s", errors));
  }
  auto next = std::make_shared<Config>(std::move(read.config));
  ReloadPlan plan = plan_reload(*config_, *next);
  if (!plan.needs_restart.empty())
    return refuse(fmt::format("{} changed: restart pgvrrpd to apply it",
                              fmt::join(plan.needs_restart, ", ")));
  if (auto why = reload_blocker(plan, *next)) return refuse(*why);

  std::string applied;
  if (plan.node_changed) {
    applied += fmt::format("node {} -> {}; ", config_->node.empty() ? "(none)" : config_->node,
                           next->node.empty() ? "(none)" : next->node);
    config_->node = next->node;
  }
  if (plan.metrics_changed) {
    applied += next->metrics_file.empty()
                   ? std::string("metrics file off; ")
                   : fmt::format("metrics to {} every {} ms; ", next->metrics_file,
                                 std::chrono::duration_cast<std::chrono::milliseconds>(
                                     next->metrics_interval)
                                     .count());
    config_->metrics_file = next->metrics_file;
    config_->metrics_interval = next->metrics_interval;
    start_metrics();
  }
  for (const auto& [what, names] : {std::pair{"stopping", &plan.removed},
                                    std::pair{"restarting", &plan.changed},
                                    std::pair{"starting", &plan.added}})
    if (!names->empty()) applied += fmt::format("{} {}; ", what, fmt::join(*names, ", "));
  if (applied.empty()) applied = "nothing changed; ";
  applied += fmt::format("{} unchanged", plural(plan.unchanged.size(), "router"));
  log::info("reload: configuration re-read: {}", applied);

  for (const auto& names : {plan.removed, plan.changed})
    for (const std::string& name : names) retire(name);
  rewire_listeners();  // no check reaches a stopped router
  pending_config_ = next;
  pending_changed_checks_ = plan.changed_checks;
  ready.armed = false;
  if (retiring_.empty()) {
    finish_reload();
    return "reloaded: " + applied + "\n";
  }
  finish_reload_when_settled();
  return "reloading: " + applied + "; the new routers start once the old have stopped\n";
}

std::optional<std::string> Daemon::reload_blocker(const ReloadPlan& plan, const Config& next) {
  for (const std::string& name : plan.changed) {
    const RouterRuntime* r = find_router(name);
    if (r && r->router().state() == vrrp::State::master)
      return fmt::format(
          "router {} changed and is MASTER here: restarting it would hand its VIP (and the "
          "primary) to the peer. Move it first (pgvrrpctl switchover), then reload",
          name);
  }
  // What the new routers need from the system, checked before anything stops.
  for (const auto& names : {plan.added, plan.changed}) {
    for (const std::string& name : names) {
      const RouterConfig& rc = *find_router_config(next, name);
      auto ifindex = netlink_->ifindex(rc.interface);
      if (!ifindex) return fmt::format("router {}: {}", name, ifindex.status().message());
      auto link = links_.find({*ifindex, rc.params.family});
      if (link != links_.end() && !link->second->multicast && rc.params.unicast_peers.empty())
        return fmt::format("router {} needs the VRRP multicast group on {}, which the running "
                           "socket there did not join: restart pgvrrpd to apply it",
                           name, rc.interface);
      auto existing = netlink_->addresses(*ifindex, rc.params.family);
      if (!existing) return fmt::format("router {}: {}", name, existing.status().message());
      if (auto source = source_address(rc, *ifindex, *existing); !source)
        return source.status().message();
      if (has_hooks(rc.hooks))
        if (auto user = notify::resolve_hook_user(rc.hooks.user); !user)
          return fmt::format("router {}: {}", name, user.status().message());
    }
  }
  return std::nullopt;
}

void Daemon::retire(const std::string& name) {
  auto it = std::find_if(routers_.begin(), routers_.end(),
                         [&](const auto& r) { return r->config().params.name == name; });
  if (it == routers_.end()) return;
  std::unique_ptr<RouterRuntime> router = std::move(*it);
  routers_.erase(it);
  // Adverts for its VRID are dropped from now on (unknown VRID), as after
  // a restart without it.
  for (auto& [key, link] : links_) {
    uint8_t vrid = router->config().params.vrid;
    if (link->by_vrid[vrid] != router.get()) continue;
    link->by_vrid[vrid] = nullptr;
    link->slots[vrid] = {};
  }
  log::info("reload: stopping router {}", name);
  router->shutdown();
  retiring_.push_back(std::move(router));
}

void Daemon::finish_reload_when_settled() {
  // As at shutdown: on_stop hooks run, and a failed VIP removal is retried,
  // for up to the longest hook_timeout; the new routers (maybe the same
  // VIPs) start after that.
  Duration longest{};
  for (auto& r : retiring_) longest = std::max(longest, r->config().hooks.timeout);
  reload_deadline_ = loop_.now() + longest;
  reload_timer_ = std::make_unique<Timer>(loop_, [this] {
    bool hooks_idle = std::all_of(retiring_.begin(), retiring_.end(),
                                  [](auto& r) { return r->policy().hooks_idle(); });
    bool vips_gone = std::none_of(retiring_.begin(), retiring_.end(),
                                  [](auto& r) { return r->removing_vips(); });
    if ((hooks_idle && vips_gone) || loop_.now() >= reload_deadline_) {
      if (!hooks_idle) log::warning("reload: hooks of the stopped routers still run: killing them");
      if (!vips_gone) log::error("reload: the stopped routers' VIPs could not all be removed");
      finish_reload();
      return;
    }
    reload_timer_->arm(loop_.now() + std::chrono::milliseconds(20));
  });
  reload_timer_->arm(loop_.now());
}

void Daemon::finish_reload() {
  std::shared_ptr<Config> next = std::move(pending_config_);
  pending_config_.reset();
  retiring_.clear();  // their hook runners kill whatever still runs
  // Checkers whose section changed stop; nothing kept tracks them (those
  // routers changed too), and the routers that did are gone now.
  for (const std::string& name : pending_changed_checks_) {
    checks_.erase(name);
    checker_configs_.erase(name);
    postgres_checks_.erase(name);
    check_verdicts_.erase(name);
  }
  pending_changed_checks_.clear();
  retained_configs_.push_back(std::move(config_));
  config_ = std::move(next);

  std::vector<RouterRuntime*> fresh;
  std::vector<bool> vips_present;
  std::vector<std::string> failed;
  for (const RouterConfig& rc : config_->routers) {
    if (find_router(rc.params.name)) continue;
    if (auto s = add_router(rc, fresh, vips_present); !s) {
      log::error("reload: router {} not started: {}", rc.params.name, s.message());
      failed.push_back(rc.params.name);
    }
  }
  // The routers in the file's order, as status and the metrics list them.
  auto position = [this](const RouterRuntime& r) {
    for (size_t i = 0; i < config_->routers.size(); ++i)
      if (config_->routers[i].params.name == r.config().params.name) return i;
    return config_->routers.size();
  };
  std::stable_sort(routers_.begin(), routers_.end(),
                   [&](const auto& a, const auto& b) { return position(*a) < position(*b); });
  NewWatchers added;
  Status wired = start_hooks(fresh);
  if (wired) wired = wire_checks(fresh, added);
  close_unused();
  if (wired && systemd_ != nullptr && systemd_->active())
    for (RouterRuntime* r : fresh) r->set_change_listener([this] { on_router_change(); });
  if (wired) wired = start_routers(fresh, vips_present, added);
  if (!wired) log::error("reload: the new routers could not all start: {}", wired.message());

  std::erase_if(retained_configs_, [this](const auto& old) {
    bool used = std::any_of(routers_.begin(), routers_.end(),
                            [&](const auto& r) { return refers_into(*old, &r->config()); });
    for (const auto& [name, check] : checker_configs_) used = used || refers_into(*old, check);
    return !used;
  });
  std::vector<std::string> names;
  for (RouterRuntime* r : fresh) names.push_back(r->config().params.name);
  last_reload_ = fmt::format(
      "{} running{}{}", plural(routers_.size(), "router"),
      names.empty() ? "" : fmt::format(", started {}", fmt::join(names, ", ")),
      failed.empty() ? "" : fmt::format(", NOT started {}", fmt::join(failed, ", ")));
  if (failed.empty() && wired)
    log::info("reload: done: {}", last_reload_);
  else
    log::error("reload: done: {}", last_reload_);
  notify_systemd("READY=1");
  on_router_change();
}

void Daemon::close_unused() {
  auto tracked = [this](const std::string& check) {
    return std::any_of(routers_.begin(), routers_.end(), [&](const auto& r) {
      return std::count(r->config().track.begin(), r->config().track.end(), check) > 0;
    });
  };
  for (auto it = checks_.begin(); it != checks_.end();) {
    if (tracked(it->first)) {
      ++it;
      continue;
    }
    log::info("reload: check {} stops: no router tracks it", it->first);
    checker_configs_.erase(it->first);
    postgres_checks_.erase(it->first);
    check_verdicts_.erase(it->first);
    it = checks_.erase(it);
  }
  auto on_interface = [this](const std::string& iface) {
    return std::any_of(routers_.begin(), routers_.end(),
                       [&](const auto& r) { return r->config().interface == iface; });
  };
  std::erase_if(link_checks_, [&](const auto& entry) { return !on_interface(entry.first); });
  std::erase_if(link_verdicts_, [&](const auto& entry) { return !on_interface(entry.first); });
  std::erase_if(links_, [this](const auto& entry) {
    const auto& by_vrid = entry.second->by_vrid;
    if (std::any_of(by_vrid.begin(), by_vrid.end(), [](auto* r) { return r != nullptr; }))
      return false;
    loop_.unwatch(entry.second->socket->fd());
    return true;
  });
}

}  // namespace pgvrrpd
