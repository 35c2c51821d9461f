// The one translation of a router's hook config (what the file says) into
// what notify's HookRunner runs (commands, timeout, user, environment).
#pragma once

#include <optional>

#include "notify/hook_runner.h"
#include "notify/run_as_linux.h"
#include "vrrpd/config/config.h"

namespace pgvrrpd {

// Whether `hooks` names any command (else no runner and no hook_user).
bool has_hooks(const HookConfig& hooks);

// `run_as`: hook_user as resolve_hook_user() found it; nullopt runs hooks as
// the daemon's own user.
notify::HookSetup hook_setup(const RouterConfig& router, std::optional<notify::RunAs> run_as);

}  // namespace pgvrrpd
