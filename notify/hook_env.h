// What a hook sees: its arguments and its environment. Pure.
//
// Arguments are keepalived's notify arguments, appended after the ones the
// operator configured: TYPE NAME STATE PRIORITY, e.g. `INSTANCE pg MASTER
// 150`. keepalived passes them to `notify` only; pgvrrpd passes them to every
// hook so one script can serve several hooks (a script written for
// keepalived's notify_master simply ignores them).
//
// The environment is built from nothing: PATH=/usr/sbin:/usr/bin:/sbin:/bin,
// then the operator's extra variables (PGDATA, PGHOST, HOME, or PATH to add
// the PostgreSQL bin directory), then the PGVRRPD_* facts below. Nothing is
// inherited from the daemon. Every PGVRRPD_* variable is always set, empty
// when the fact is unknown (no PostgreSQL connection, no master seen), so
// scripts can use `set -u`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vrrpd/basics/result.h"

namespace pgvrrpd::notify {

// The state a transition enters, as hooks name it. `stop` is the daemon
// shutting the router down (keepalived's STOP).
enum class HookState : uint8_t { master, backup, fault, stop };
// MASTER, BACKUP, FAULT, STOP.
std::string_view hook_state_name(HookState state);

// The configurable hooks, in the order a transition runs them: the state's
// own hook first, then notify (keepalived runs notify after notify_*).
// fence and rejoin are not tied to a transition: the failover policy runs
// them (through HookRunner::run_hook) when the local server must be fenced
// and rejoined; switchover when pgvrrpctl asks for one.
enum class HookKind : uint8_t {
  on_master, on_backup, on_fault, on_stop, notify, fence, rejoin, switchover
};
inline constexpr size_t kHookKinds = 8;
// The config key: on_master, ..., notify.
std::string_view hook_kind_name(HookKind kind);
// The state hook for `state`: on_master for master, and so on.
HookKind state_hook(HookState state);

// PostgreSQL as the checker last saw it; empty / nullopt when unknown.
struct PgFacts {
  std::string role;  // "primary" or "standby"
  std::optional<uint32_t> timeline;
  std::string lsn;   // "0/3000148"
  std::optional<int64_t> lag_bytes;  // replay lag behind the primary
};

// Synchronous replication ([router] synchronous) as the router saw it.
struct SyncFacts {
  std::string mode;     // "off", "on", "strict"
  // What the primary's synchronous_standby_names says ("synchronous",
  // "leaving", "asynchronous", "not pgvrrpd's"): the local server's when it
  // is the primary, else the last reading of the peer's; "" when unknown.
  std::string state;
  uint64_t changes = 0;  // changes this node has applied since it started
  std::string blocker;   // why the standby would not promote by itself, or ""
};

// One transition, as the daemon saw it when it happened. The runner may start
// its hooks later (after a running hook ends); they get these facts, not
// fresher ones.
struct HookEvent {
  HookState state = HookState::backup;
  std::string previous_state;  // INIT, BACKUP, MASTER, FAULT
  std::string reason;          // the transition log line's reason
  uint8_t priority = 0;
  std::vector<std::string> vips;  // as configured, "198.51.100.210/24"
  std::string master;             // the current master's address, "" if none
  // The peer's PostgreSQL server (the postgres check's peer_conninfo):
  // address and port, "" when there is none.
  std::string peer;
  std::string peer_port;
  PgFacts pg;
  SyncFacts sync;
};

// Per-router, from the config.
struct HookIdentity {
  std::string router;
  uint8_t vrid = 0;
};

using EnvVars = std::vector<std::pair<std::string, std::string>>;

// `program_argv` (the configured command) + TYPE NAME STATE PRIORITY.
std::vector<std::string> hook_argv(const std::vector<std::string>& program_argv,
                                   const HookIdentity& id, const HookEvent& event);

// The environment every command the daemon runs starts from, hooks and
// exec checks alike: PATH=/usr/sbin:/usr/bin:/sbin:/bin and nothing else.
// Nothing is inherited from the daemon.
std::vector<std::string> base_environment();

// "NAME=value" strings, sorted by name, each name once (later layers win):
// base_environment(), `extra`, then PGVRRPD_ROUTER, _VRID, _HOOK, _STATE,
// _PREVIOUS_STATE, _REASON, _PRIORITY, _VIPS (space-separated), _MASTER,
// _PEER, _PEER_PORT, _PG_ROLE, _PG_TIMELINE, _PG_LSN, _PG_LAG_BYTES,
// _SYNC_MODE, _SYNC_STATE, _SYNC_CHANGES, _SYNC_BLOCKER.
std::vector<std::string> hook_environment(const HookIdentity& id, HookKind kind,
                                          const HookEvent& event, const EnvVars& extra);

// Config-time check of an operator variable name: a shell identifier, and
// not PGVRRPD_*, which pgvrrpd owns.
Status check_extra_env_name(std::string_view name);

}  // namespace pgvrrpd::notify
