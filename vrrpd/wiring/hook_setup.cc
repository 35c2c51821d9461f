#include "vrrpd/wiring/hook_setup.h"

#include <utility>

namespace pgvrrpd {

namespace {

static_assert(kHookKeys.size() == notify::kHookKinds, "one config key per hook kind");

// The config's hook key for `kind`: notify names its kinds as the config's
// keys are spelled.
const CommandConfig HookConfig::*member_for(notify::HookKind kind) {
  for (const auto& [key, member] : kHookKeys)
    if (key == notify::hook_kind_name(kind)) return member;
  return nullptr;
}

}  // namespace

bool has_hooks(const HookConfig& hooks) {
  for (const auto& [key, member] : kHookKeys)
    if (!(hooks.*member).empty()) return true;
  return false;
}

notify::HookSetup hook_setup(const RouterConfig& router, std::optional<notify::RunAs> run_as) {
  const HookConfig& hooks = router.hooks;
  notify::HookSetup setup;
  setup.id = {router.params.name, router.params.vrid};
  for (size_t i = 0; i < notify::kHookKinds; ++i) {
    auto kind = static_cast<notify::HookKind>(i);
    const CommandConfig& command = hooks.*member_for(kind);
    if (!command.empty()) setup.command(kind) = notify::Command{command.argv};
  }
  setup.timeout = hooks.timeout;
  setup.extra_env = hooks.env;
  setup.run_as = std::move(run_as);
  return setup;
}

}  // namespace pgvrrpd
