// From ini sections to a validated Config. Every rule is checked and every
// violation reported with its line, so one run of --check-config shows all
// that is wrong with a file.
#include "vrrpd/config/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <span>

#include "vrrpd/config/config_check_section.h"
#include "vrrpd/config/config_ini.h"
#include "vrrpd/config/config_router.h"
#include "vrrpd/config/config_values.h"

namespace pgvrrpd {
namespace {

using config::IniSection;
using config::Reporter;

constexpr config::KeyRule kGlobalKeys[] = {{"node", false, false},
                                           {"control_socket", false, false},
                                           {"metrics_file", false, false},
                                           {"metrics_interval", false, false}};

// sockaddr_un's sun_path holds 108 bytes with the terminating NUL.
constexpr size_t kMaxSocketPath = 107;

void parse_global_section(const IniSection& section, Config& out, Reporter& report) {
  auto keys = config::collect_keys(section, kGlobalKeys, "[global]", report);
  if (auto* node = config::first(keys, "node")) out.node = node->value;
  if (auto* socket = config::first(keys, "control_socket")) {
    const std::string& path = socket->value;
    bool dots = path.find("/./") != std::string::npos || path.find("/../") != std::string::npos;
    if (path.front() != '/' || path.back() == '/' || path.size() > kMaxSocketPath || dots)
      report(socket->line, fmt::format("control_socket must be an absolute path to a file, "
                                       "without . or .., of at most {} bytes, got {}",
                                       kMaxSocketPath, path));
    else
      out.control_socket = path;
  }
  if (auto* metrics = config::first(keys, "metrics_file")) {
    const std::string& path = metrics->value;
    bool dots = path.find("/./") != std::string::npos || path.find("/../") != std::string::npos;
    // node_exporter reads *.prom only.
    if (path.front() != '/' || dots || path.size() < 6 || path.substr(path.size() - 5) != ".prom")
      report(metrics->line, fmt::format("metrics_file must be an absolute path ending in .prom, "
                                        "without . or .., got {}",
                                        path));
    else
      out.metrics_file = path;
  }
  if (auto interval = config::parse_duration(keys, report, "metrics_interval", 1000, 3'600'000,
                                             "1..3600"))
    out.metrics_interval = *interval;
}

// "router pg" -> ("router", "pg").
std::pair<std::string_view, std::string_view> split_header(std::string_view name) {
  auto space = name.find_first_of(" \t");
  if (space == std::string_view::npos) return {name, {}};
  auto rest = name.substr(space);
  rest.remove_prefix(std::min(rest.find_first_not_of(" \t"), rest.size()));
  return {name.substr(0, space), rest};
}

std::string section_hint(std::string_view word, std::string_view rest) {
  auto match = config::closest_match(word, {"global", "router", "check"});
  if (match == "global") return " (did you mean [global]?)";
  if (match.empty()) return {};
  return fmt::format(" (did you mean [{} {}]?)", match, rest.empty() ? "NAME" : rest);
}

// Two routers on one link with one VRID and family would be one VRRP
// instance to every peer (RFC 5798 5.2.3): their adverts would collide.
struct Identity {
  std::string interface;
  uint8_t vrid;
  Family family;
  auto operator<=>(const Identity&) const = default;
};

struct Seen {
  std::string label;
  int line;
};

// The [check NAME] header: a valid name, not seen before. Returns whether
// the name can be used to refer to the check.
bool validate_check_name(std::string_view name, int line, std::map<std::string, int>& lines,
                      const Reporter& report) {
  if (name.empty()) {
    report(line, "missing check name: expected [check NAME]");
    return false;
  }
  if (!config::valid_router_name(name)) {
    report(line, fmt::format("check name must be 1..32 characters of A-Z a-z 0-9 _ . -, "
                             "got {}",
                             name));
    return false;
  }
  if (auto [it, inserted] = lines.emplace(name, line); !inserted) {
    report(line, fmt::format("duplicate [check {}], first at line {}", name, it->second));
    return false;
  }
  return true;
}

// Every tracked name must be a [check] of this file, tracked once.
void resolve_track(const std::vector<config::TrackRef>& refs, RouterConfig& router,
                   std::string_view label, const std::map<std::string, int>& checks,
                   const Reporter& report) {
  std::vector<std::string_view> names;
  for (auto& [name, line] : checks) names.push_back(name);
  std::map<std::string, int> seen;
  for (const config::TrackRef& ref : refs) {
    if (!checks.contains(ref.name)) {
      auto hint = config::closest_match(ref.name, names);
      report(ref.line, fmt::format("track: no [check {}] in this file{}", ref.name,
                                   hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
      continue;
    }
    if (auto [it, inserted] = seen.emplace(ref.name, ref.line); !inserted) {
      report(ref.line, fmt::format("check '{}' is tracked twice by {}, first at line {}",
                                   ref.name, label, it->second));
      continue;
    }
    router.track.push_back(ref.name);
  }
}

}  // namespace

std::vector<const CheckConfig*> tracked_checks(const Config& config, const RouterConfig& router) {
  std::vector<const CheckConfig*> tracked;
  for (const std::string& name : router.track)
    for (const CheckConfig& check : config.checks)
      if (check.name == name) tracked.push_back(&check);
  return tracked;
}

const RouterConfig* find_router_config(const Config& config, std::string_view name) {
  for (const RouterConfig& r : config.routers)
    if (r.params.name == name) return &r;
  return nullptr;
}

const CheckConfig* tracked_postgres_check(const Config& config, const RouterConfig& router) {
  for (const CheckConfig* check : tracked_checks(config, router))
    if (check->type == CheckType::postgres) return check;
  return nullptr;
}

std::string_view synchronous_name(RouterConfig::Synchronous mode) {
  switch (mode) {
    case RouterConfig::Synchronous::off: return "off";
    case RouterConfig::Synchronous::on: return "on";
    case RouterConfig::Synchronous::strict: return "strict";
  }
  return "?";
}

Duration min_sync_grace(const CheckConfig& check) {
  return 2 * (check.interval + check.timeout + std::chrono::milliseconds(200));
}

namespace {

std::string hook_user_name(const std::string& user) {
  return user.empty() ? "pgvrrpd's own user (no hook_user)" : user;
}

// Synchronous mode reads the primary's replication state over the peer
// check's connection, and the standby trusts what it read for half of
// sync_grace less the check's timeout: that must span a check interval.
void check_synchronous(const Config& config, const RouterConfig& router, const Reporter& report) {
  if (router.synchronous == RouterConfig::Synchronous::off) return;
  const CheckConfig* pg = tracked_postgres_check(config, router);
  if (pg == nullptr || pg->peer_conninfo.empty()) {
    report(router.synchronous_line,
           fmt::format("synchronous = {} needs a tracked postgres check with peer_conninfo (the "
                       "standby reads the primary's replication state through it)",
                       synchronous_name(router.synchronous)));
    return;
  }
  Duration least = min_sync_grace(*pg);
  if (router.sync_grace < least)
    report(router.synchronous_line,
           fmt::format("sync_grace must be at least {:.1f} s with check {} (2 x (interval + "
                       "timeout + 0.2 s)), got {:.1f} s",
                       std::chrono::duration<double>(least).count(), pg->name,
                       std::chrono::duration<double>(router.sync_grace).count()));
}

}  // namespace

std::string ConfigError::to_string() const {
  if (line <= 0) return fmt::format("{}: {}", file, message);
  return fmt::format("{}:{}: {}", file, line, message);
}

ConfigResult parse_config(std::string_view text, std::string_view file_name,
                          const ConfigValidators& validators) {
  ConfigResult result;
  Reporter report{std::string(file_name), result.errors};
  auto ini = config::read_ini(text);
  for (auto& error : ini.errors) report(error.line, error.message);
  for (auto& entry : ini.outside)
    report(entry.line, fmt::format("key '{}' outside of any section; put it under "
                                   "[global] or [router NAME]",
                                   entry.key));

  int global_line = 0;
  bool any_router = false;
  std::map<std::string, int> router_lines;
  std::map<Identity, Seen> identities;
  std::map<std::string, int> check_section_lines;
  // Tracked names wait for the whole file: a [check] may follow its router.
  std::vector<std::pair<std::vector<config::TrackRef>, std::string>> track_refs;
  for (auto& section : ini.sections) {
    std::string label = "[" + section.name + "]";
    if (section.name == "global") {
      if (global_line != 0) {
        report(section.line, fmt::format("duplicate [global], first at line {}", global_line));
        continue;
      }
      global_line = section.line;
      parse_global_section(section, result.config, report);
      continue;
    }
    auto [word, name] = split_header(section.name);
    if (word == "check") {
      bool usable = validate_check_name(name, section.line, check_section_lines, report);
      // Its keys are checked either way, so every mistake shows in one run.
      auto check = config::parse_check_section(section, std::string(name), label, validators, report);
      if (usable) result.config.checks.push_back(std::move(check));
      continue;
    }
    if (word != "router") {
      // Its keys are not checked: without knowing the section, every key
      // would be one more error about the same mistake.
      report(section.line, fmt::format("unknown section {}; expected [global], "
                                       "[router NAME] or [check NAME]{}",
                                       label, section_hint(word, name)));
      continue;
    }
    any_router = true;
    bool unique = true;
    if (name.empty()) {
      report(section.line, "missing router name: expected [router NAME]");
    } else if (!config::valid_router_name(name)) {
      report(section.line, fmt::format("router name must be 1..32 characters of "
                                       "A-Z a-z 0-9 _ . -, got {}",
                                       name));
    } else if (auto [it, inserted] = router_lines.emplace(name, section.line); !inserted) {
      report(section.line, fmt::format("duplicate [router {}], first at line {}", name,
                                       it->second));
      unique = false;
    }
    auto checked = config::parse_router_section(section, std::string(name), label, report);
    if (checked.identity_known && unique) {
      Identity id{checked.router.interface, checked.router.params.vrid,
                  checked.router.params.family};
      auto [it, inserted] = identities.emplace(id, Seen{label, section.line});
      if (!inserted)
        report(section.line,
               fmt::format("{} has the same interface, vrid and family as {} at line {} "
                           "({}, vrid {}, {})",
                           label, it->second.label, it->second.line, id.interface, id.vrid,
                           family_name(id.family)));
    }
    track_refs.emplace_back(std::move(checked.track), label);
    result.config.routers.push_back(std::move(checked.router));
  }
  if (!any_router) report(0, "no [router NAME] section: nothing to run");
  for (size_t i = 0; i < track_refs.size(); ++i)
    resolve_track(track_refs[i].first, result.config.routers[i], track_refs[i].second,
                  check_section_lines, report);
  // The failover policy follows one server: the local one.
  for (RouterConfig& router : result.config.routers) {
    auto tracked = tracked_checks(result.config, router);
    auto postgres = std::count_if(tracked.begin(), tracked.end(), [](const CheckConfig* check) {
      return check->type == CheckType::postgres;
    });
    if (postgres > 1)
      report(router.line, fmt::format("[router {}] tracks {} postgres checks; it may track one",
                                      router.params.name, postgres));
    // Promote before the VIP: a router that follows a postgres check adds
    // its VIPs only once the local server accepts writes, and gives up if
    // the promotion takes longer than hook_timeout.
    if (postgres > 0) {
      router.params.gate_vips_on_serving = true;
      router.params.serving_timeout = router.hooks.timeout;
    }
    check_synchronous(result.config, router, report);
  }
  // An exec check runs as the hook_user of the routers tracking it, so
  // they must name the same one.
  for (const CheckConfig& check : result.config.checks) {
    if (check.type != CheckType::exec) continue;
    const RouterConfig* first = nullptr;
    for (const RouterConfig& router : result.config.routers) {
      if (!std::count(router.track.begin(), router.track.end(), check.name)) continue;
      if (first == nullptr) {
        first = &router;
      } else if (router.hooks.user != first->hooks.user) {
        report(router.line, fmt::format("exec check '{}' runs as the hook_user of the routers "
                                        "tracking it: [router {}] has {}, [router {}] at line "
                                        "{} has {}",
                                        check.name, router.params.name,
                                        hook_user_name(router.hooks.user), first->params.name,
                                        first->line, hook_user_name(first->hooks.user)));
      }
    }
  }

  // Line order reads best; file-wide errors (line 0) go last.
  std::stable_sort(result.errors.begin(), result.errors.end(),
                   [](const ConfigError& a, const ConfigError& b) {
                     auto key = [](int line) { return line <= 0 ? INT32_MAX : line; };
                     return key(a.line) < key(b.line);
                   });
  return result;
}

std::vector<ConfigError> validate_commands(const Config& config, std::string_view file_name,
                                           const CommandValidator& validate) {
  std::vector<ConfigError> errors;
  auto one = [&](const std::string& key, const CommandConfig& command) {
    if (command.empty()) return;
    if (auto why = validate(command); !why.empty())
      errors.push_back({std::string(file_name), command.line, fmt::format("{}: {}", key, why)});
  };
  for (const CheckConfig& check : config.checks) one("command", check.command);
  for (const RouterConfig& router : config.routers) {
    for (const auto& [key, member] : kHookKeys) one(std::string(key), router.hooks.*member);
    for (const auto& [name, command] : router.hooks.env_commands) one("hook_env " + name, command);
  }
  std::stable_sort(errors.begin(), errors.end(),
                   [](const ConfigError& a, const ConfigError& b) { return a.line < b.line; });
  return errors;
}

ConfigResult load_config(const std::string& path, const ConfigValidators& validators) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    ConfigResult result;
    result.errors.push_back({path, 0, fmt::format("cannot open: {}", std::strerror(errno))});
    return result;
  }
  std::string text;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, n);
  // fopen() succeeds on a directory; the read is what fails (EISDIR).
  int read_errno = std::ferror(file) ? errno : 0;
  std::fclose(file);
  if (read_errno != 0) {
    ConfigResult result;
    result.errors.push_back({path, 0, fmt::format("cannot read: {}", std::strerror(read_errno))});
    return result;
  }
  return parse_config(text, path, validators);
}

std::vector<std::string_view> accepted_keys(std::string_view section) {
  std::span<const config::KeyRule> rules;
  if (section == "global") rules = kGlobalKeys;
  if (section == "router") rules = config::router_key_rules();
  if (section == "check") rules = config::check_key_rules();
  std::vector<std::string_view> names;
  for (const auto& rule : rules) names.push_back(rule.name);
  return names;
}

}  // namespace pgvrrpd
