// The node's ini file, parsed with inih into typed structs and validated
// completely before anything starts (see pgvrrpd.ini(5)).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vrrpd/basics/ip_address.h"
#include "vrrpd/core/router.h"
#include "vrrpd/basics/time.h"

namespace pgvrrpd {

// A command line from the config: an absolute path, then arguments split on
// whitespace (no quoting, no shell).
struct CommandConfig {
  int line = 0;  // where it was set, for messages about it after parsing
  std::vector<std::string> argv;  // empty: not set
  bool empty() const { return argv.empty(); }
  friend bool operator==(const CommandConfig&, const CommandConfig&) = default;
};

// What a router runs on its transitions (pgvrrpd.ini(5) "HOOKS"). Running
// them is notify/'s job; the config only says what and how.
struct HookConfig {
  CommandConfig on_master;
  CommandConfig on_backup;
  CommandConfig on_fault;
  CommandConfig on_stop;
  CommandConfig notify;  // every transition, keepalived's notify
  // Not tied to a transition: run when the failover policy fences the local
  // server (a primary beside the master) and, with auto_rejoin, turns it
  // into a standby of the current master.
  CommandConfig fence;
  CommandConfig rejoin;
  // Run by pgvrrpctl switchover on the master: stops the local primary
  // cleanly and confirms the peer has replayed all of it (pgvrrpd(8),
  // SWITCHOVER).
  CommandConfig switchover;
  bool auto_rejoin = false;
  Duration timeout = std::chrono::seconds(60);
  // Resolved at start-up, not when parsing (the user database is not the
  // config file's business, and --check-config may run elsewhere). Empty:
  // pgvrrpd's own user (root, or the unit's User=).
  std::string user;
  std::vector<std::pair<std::string, std::string>> env;  // NAME, value; in file order
  // The programs the shipped hooks run from hook_env (kHookEnvCommands),
  // parsed and checked like the hooks themselves: the fence and rejoin
  // hooks exec them as hook_user.
  std::vector<std::pair<std::string, CommandConfig>> env_commands;
};

// hook_env names whose value is a command line the shipped hooks run.
inline constexpr std::array<std::string_view, 2> kHookEnvCommands{"PG_START_COMMAND",
                                                                  "PG_STOP_COMMAND"};

// The hook keys of a [router] section and where each lands, in
// pgvrrpd.ini(5)'s order: parsing, printing, validation and the wiring's
// hook setup all walk this one list.
struct HookKey {
  std::string_view key;
  CommandConfig HookConfig::*command;
};
inline constexpr std::array<HookKey, 8> kHookKeys{{
    {"on_master", &HookConfig::on_master},
    {"on_backup", &HookConfig::on_backup},
    {"on_fault", &HookConfig::on_fault},
    {"on_stop", &HookConfig::on_stop},
    {"notify", &HookConfig::notify},
    {"fence", &HookConfig::fence},
    {"rejoin", &HookConfig::rejoin},
    {"switchover", &HookConfig::switchover},
}};

struct RouterConfig {
  int line = 0;  // line of the [router NAME] header, for later messages
  std::string interface;
  vrrp::RouterParams params;  // name, vrid, version, family, priority, ...
  std::optional<IpAddress> unicast_source;
  // accept_any_source = true was given: a multicast router without peer =
  // obeys any sender on the link on purpose (pgvrrpd(8), TRUST).
  bool accept_any_source = false;
  // Seconds the VIP stays on the interface if we stop refreshing it
  // (SIGKILL); 0 = permanent.
  uint32_t vip_lease_seconds = 3;
  uint32_t garp_repeat = 3;               // announcements on becoming master
  Duration garp_delay = std::chrono::milliseconds(100);   // between them
  Duration garp_refresh = std::chrono::seconds(60);       // 0 = off
  // Names of [check NAME] sections this router tracks; each exists in
  // Config::checks. The router's own interface link is tracked implicitly.
  std::vector<std::string> track;
  HookConfig hooks;
  // synchronous and sync_grace: synchronous replication the failover
  // policy keeps (policy/sync_policy.h). Needs a tracked postgres check
  // with peer_conninfo.
  enum class Synchronous { off, on, strict };
  Synchronous synchronous = Synchronous::off;
  Duration sync_grace = std::chrono::seconds(5);
  int synchronous_line = 0;  // where it was set, for the checks that need the check's timing
};
std::string_view synchronous_name(RouterConfig::Synchronous mode);

enum class CheckType { postgres, ping, exec };
std::string_view check_type_name(CheckType type);

// What a failing check does to the routers tracking it.
enum class CheckEffect {
  fault,   // the router goes to FAULT (drops the VIP, hooks fence)
  weight,  // the router's priority moves by CheckConfig::weight
};

struct CheckConfig {
  int line = 0;  // line of the [check NAME] header
  std::string name;
  CheckType type = CheckType::exec;
  Duration interval = std::chrono::seconds(1);
  // Per-type default: default_check_timeout().
  Duration timeout = std::chrono::seconds(1);
  uint32_t rise = 1;  // good results in a row before a failing check passes
  uint32_t fall = 1;  // bad results in a row before a passing check fails
  CheckEffect effect = CheckEffect::fault;
  // effect = weight only, -254..254 (keepalived's meaning): > 0 is added to
  // the priority while the check passes, < 0 is added while it fails.
  int weight = 0;

  // type = postgres
  std::string conninfo;       // the local server
  std::string peer_conninfo;  // the other node's server; empty: none
  std::optional<uint64_t> max_lag_bytes;
  // type = ping
  std::optional<IpAddress> target;
  // type = exec
  CommandConfig command;
};

Duration default_check_timeout(CheckType type);
uint32_t default_check_fall(CheckType type);

inline constexpr std::string_view kDefaultControlSocket = "/run/pgvrrpd/pgvrrpd.sock";

struct Config {
  std::string node;  // [global] node, for logs
  // [global] control_socket: where pgvrrpctl finds this daemon (a unix
  // socket only root may use).
  std::string control_socket = std::string(kDefaultControlSocket);
  // [global] metrics_file: a Prometheus text file (node_exporter's textfile
  // collector), rewritten every metrics_interval; empty: none.
  std::string metrics_file;
  Duration metrics_interval = std::chrono::seconds(15);
  std::vector<RouterConfig> routers;
  std::vector<CheckConfig> checks;  // in file order
};

struct ConfigError {
  std::string file;
  int line = 0;  // 0: not tied to one line
  std::string message;
  // "file:line: message"
  std::string to_string() const;
};

struct ConfigResult {
  Config config;
  std::vector<ConfigError> errors;  // empty: config is valid
  bool ok() const { return errors.empty(); }
};

// The [router NAME] section of that name, or nullptr.
const RouterConfig* find_router_config(const Config& config, std::string_view name);
// The [check] sections `router` tracks, in track order.
std::vector<const CheckConfig*> tracked_checks(const Config& config, const RouterConfig& router);
// The one postgres check `router` tracks (the parser allows at most one), or
// nullptr. Its facts drive the router's failover policy.
const CheckConfig* tracked_postgres_check(const Config& config, const RouterConfig& router);
// The smallest sync_grace a router tracking `check` may have
// (policy/sync_policy.h, min_sync_grace: the same rule).
Duration min_sync_grace(const CheckConfig& check);

// What the pure parser cannot judge by itself; it asks while parsing, so
// the answers come out as file:line errors in file order. checkers/ gives
// the libpq one (checkers/conninfo_libpq.h).
struct ConfigValidators {
  // "" when `conninfo` is a connection string libpq accepts, else why not.
  // Unset: conninfo and peer_conninfo are taken as written.
  std::function<std::string(const std::string& conninfo)> conninfo;
};

// Parses `text` as if read from `file_name` (used in messages).
ConfigResult parse_config(std::string_view text, std::string_view file_name,
                          const ConfigValidators& validators);
// Reads and parses a file; an unreadable file is one error.
ConfigResult load_config(const std::string& path, const ConfigValidators& validators);

// The seam for checks of commands that are not pure (the file exists, is
// owned by root, is not writable by others...): notify/ provides one. It
// returns an empty string when `command` is acceptable, else why not.
using CommandValidator = std::function<std::string(const CommandConfig& command)>;
// Runs `validate` on every command in `config` (exec checks and hooks) and
// returns its complaints as file:line errors. parse_config() stays pure and
// does not call it; the daemon does, after loading and before starting.
std::vector<ConfigError> validate_commands(const Config& config, std::string_view file_name,
                                           const CommandValidator& validate);

// Every key a section accepts: `section` is "global", "router" or "check"
// (empty for anything else). For the test that pgvrrpd.ini(5) documents
// each one.
std::vector<std::string_view> accepted_keys(std::string_view section);

// The effective configuration as ini text with every default spelled out,
// in a fixed order; parse_config() of it gives the same Config. For
// --check-config output and the golden tests.
std::string format_config(const Config& config);

}  // namespace pgvrrpd
