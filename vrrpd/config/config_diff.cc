#include "vrrpd/config/config_diff.h"

#include <algorithm>

namespace pgvrrpd {

namespace {

// The router's section and those of the checks it tracks, as format_config
// spells them: what decides whether it changed.
std::string router_text(const Config& config, const RouterConfig& router) {
  Config one;
  one.routers.push_back(router);
  for (const CheckConfig* check : tracked_checks(config, router)) one.checks.push_back(*check);
  std::string text = format_config(one);
  // Only the router's own part: [global] is judged on its own.
  return text.substr(text.find("\n[router ") + 1);
}

const CheckConfig* find_check(const Config& config, const std::string& name) {
  for (const CheckConfig& c : config.checks)
    if (c.name == name) return &c;
  return nullptr;
}

std::string check_text(const CheckConfig& check) {
  Config one;
  one.checks.push_back(check);
  return format_config(one);
}

}  // namespace

ReloadPlan plan_reload(const Config& running, const Config& next) {
  ReloadPlan plan;
  if (running.control_socket != next.control_socket) plan.needs_restart.push_back("control_socket");
  plan.metrics_changed = running.metrics_file != next.metrics_file ||
                         running.metrics_interval != next.metrics_interval;
  plan.node_changed = running.node != next.node;
  for (const RouterConfig& r : running.routers) {
    const std::string& name = r.params.name;
    const RouterConfig* n = find_router_config(next, name);
    if (!n)
      plan.removed.push_back(name);
    else if (router_text(running, r) == router_text(next, *n))
      plan.unchanged.push_back(name);
    else
      plan.changed.push_back(name);
  }
  for (const RouterConfig& n : next.routers)
    if (!find_router_config(running, n.params.name)) plan.added.push_back(n.params.name);
  for (const CheckConfig& c : running.checks) {
    const CheckConfig* n = find_check(next, c.name);
    if (!n || check_text(c) != check_text(*n)) plan.changed_checks.push_back(c.name);
  }
  return plan;
}

}  // namespace pgvrrpd
