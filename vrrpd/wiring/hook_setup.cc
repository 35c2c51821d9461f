#include "vrrpd/wiring/hook_setup.h"

#include <array>
#include <utility>

namespace pgvrrpd {

namespace {

using Slot = std::pair<notify::HookKind, const CommandConfig HookConfig::*>;
constexpr std::array<Slot, notify::kHookKinds> kSlots{{
    {notify::HookKind::on_master, &HookConfig::on_master},
    {notify::HookKind::on_backup, &HookConfig::on_backup},
    {notify::HookKind::on_fault, &HookConfig::on_fault},
    {notify::HookKind::on_stop, &HookConfig::on_stop},
    {notify::HookKind::notify, &HookConfig::notify},
    {notify::HookKind::fence, &HookConfig::fence},
    {notify::HookKind::rejoin, &HookConfig::rejoin},
}};

}  // namespace

bool has_hooks(const HookConfig& hooks) {
  for (const auto& [kind, member] : kSlots)
    if (!(hooks.*member).empty()) return true;
  return false;
}

notify::HookSetup hook_setup(const RouterConfig& router, std::optional<notify::RunAs> run_as) {
  const HookConfig& hooks = router.hooks;
  notify::HookSetup setup;
  setup.id = {router.params.name, router.params.vrid};
  for (const auto& [kind, member] : kSlots) {
    const CommandConfig& command = hooks.*member;
    if (!command.empty()) setup.command(kind) = notify::Command{command.argv};
  }
  setup.timeout = hooks.timeout;
  setup.extra_env = hooks.env;
  setup.run_as = std::move(run_as);
  return setup;
}

}  // namespace pgvrrpd
