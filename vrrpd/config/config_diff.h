// What a reload (SIGHUP, pgvrrpctl reload) changes, pure: the running
// configuration against the newly read one, router by router. A router is
// unchanged when its section and the sections of the checks it tracks read
// the same once every default is spelled out (format_config): moving lines
// or editing comments changes nothing.
#pragma once

#include <string>
#include <vector>

#include "vrrpd/config/config.h"

namespace pgvrrpd {

struct ReloadPlan {
  std::vector<std::string> unchanged;  // router names, in the running order
  std::vector<std::string> changed;    // restarted: stopped as removed, started as added
  std::vector<std::string> removed;
  std::vector<std::string> added;      // in the new file's order
  // [check] sections that are gone or read differently: their checkers
  // stop with the (changed or removed) routers that track them.
  std::vector<std::string> changed_checks;
  // [global] keys whose new value needs a restart (the control socket:
  // pgvrrpctl could not find the daemon); the reload is refused.
  std::vector<std::string> needs_restart;
  bool metrics_changed = false;  // metrics_file or metrics_interval
  bool node_changed = false;

  bool nothing() const {
    return changed.empty() && removed.empty() && added.empty() && !metrics_changed &&
           !node_changed;
  }
};

ReloadPlan plan_reload(const Config& running, const Config& next);

}  // namespace pgvrrpd
