#include "notify/hook_env.h"

#include <fmt/ranges.h>

#include <map>

namespace pgvrrpd::notify {
namespace {

constexpr const char* kBasePath = "/usr/sbin:/usr/bin:/sbin:/bin";

}  // namespace

std::string_view hook_state_name(HookState state) {
  switch (state) {
    case HookState::master: return "MASTER";
    case HookState::backup: return "BACKUP";
    case HookState::fault: return "FAULT";
    case HookState::stop: return "STOP";
  }
  return "?";
}

std::string_view hook_kind_name(HookKind kind) {
  switch (kind) {
    case HookKind::on_master: return "on_master";
    case HookKind::on_backup: return "on_backup";
    case HookKind::on_fault: return "on_fault";
    case HookKind::on_stop: return "on_stop";
    case HookKind::notify: return "notify";
    case HookKind::fence: return "fence";
    case HookKind::rejoin: return "rejoin";
    case HookKind::switchover: return "switchover";
  }
  return "?";
}

HookKind state_hook(HookState state) {
  switch (state) {
    case HookState::master: return HookKind::on_master;
    case HookState::backup: return HookKind::on_backup;
    case HookState::fault: return HookKind::on_fault;
    case HookState::stop: return HookKind::on_stop;
  }
  return HookKind::notify;
}

std::vector<std::string> hook_argv(const std::vector<std::string>& program_argv,
                                   const HookIdentity& id, const HookEvent& event) {
  std::vector<std::string> argv = program_argv;
  argv.emplace_back("INSTANCE");
  argv.push_back(id.router);
  argv.emplace_back(hook_state_name(event.state));
  argv.push_back(std::to_string(event.priority));
  return argv;
}

std::vector<std::string> base_environment() { return {fmt::format("PATH={}", kBasePath)}; }

std::vector<std::string> hook_environment(const HookIdentity& id, HookKind kind,
                                          const HookEvent& event, const EnvVars& extra) {
  std::map<std::string, std::string> env;
  env["PATH"] = kBasePath;
  for (const auto& [name, value] : extra) env[name] = value;
  auto optional_text = [](const auto& value) {
    return value ? std::to_string(*value) : std::string();
  };
  env["PGVRRPD_ROUTER"] = id.router;
  env["PGVRRPD_VRID"] = std::to_string(id.vrid);
  env["PGVRRPD_HOOK"] = hook_kind_name(kind);
  env["PGVRRPD_STATE"] = hook_state_name(event.state);
  env["PGVRRPD_PREVIOUS_STATE"] = event.previous_state;
  env["PGVRRPD_REASON"] = event.reason;
  env["PGVRRPD_PRIORITY"] = std::to_string(event.priority);
  env["PGVRRPD_VIPS"] = fmt::format("{}", fmt::join(event.vips, " "));
  env["PGVRRPD_MASTER"] = event.master;
  env["PGVRRPD_PEER"] = event.peer;
  env["PGVRRPD_PEER_PORT"] = event.peer_port;
  env["PGVRRPD_PG_ROLE"] = event.pg.role;
  env["PGVRRPD_PG_TIMELINE"] = optional_text(event.pg.timeline);
  env["PGVRRPD_PG_LSN"] = event.pg.lsn;
  env["PGVRRPD_PG_LAG_BYTES"] = optional_text(event.pg.lag_bytes);
  env["PGVRRPD_SYNC_MODE"] = event.sync.mode;
  env["PGVRRPD_SYNC_STATE"] = event.sync.state;
  env["PGVRRPD_SYNC_CHANGES"] = std::to_string(event.sync.changes);
  env["PGVRRPD_SYNC_BLOCKER"] = event.sync.blocker;

  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [name, value] : env) out.push_back(name + "=" + value);
  return out;
}

Status check_extra_env_name(std::string_view name) {
  auto is_alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  auto is_alnum = [&](char c) { return is_alpha(c) || (c >= '0' && c <= '9'); };
  if (name.empty() || !is_alpha(name.front()))
    return Status::error(fmt::format("'{}' is not a variable name", name));
  for (char c : name)
    if (!is_alnum(c)) return Status::error(fmt::format("'{}' is not a variable name", name));
  if (name.starts_with("PGVRRPD_"))
    return Status::error(fmt::format("{}: PGVRRPD_* variables are set by pgvrrpd", name));
  return Status::success();
}

}  // namespace pgvrrpd::notify
