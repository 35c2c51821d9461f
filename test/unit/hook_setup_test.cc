// wiring/hook_setup: the router's hook config reaches the HookRunner whole,
// each command under its own kind, with the config's timeout.
#include <doctest/doctest.h>

#include "vrrpd/wiring/hook_setup.h"

namespace pgvrrpd {
namespace {

CommandConfig command(const std::string& path) { return CommandConfig{1, {path, "arg"}}; }

TEST_CASE("hook_setup: every configured command goes to its own hook kind") {
  RouterConfig router;
  router.params.name = "pg";
  router.params.vrid = 51;
  HookConfig& h = router.hooks;
  h.on_master = command("/hooks/master");
  h.on_backup = command("/hooks/backup");
  h.on_fault = command("/hooks/fault");
  h.on_stop = command("/hooks/stop");
  h.notify = command("/hooks/notify");
  h.fence = command("/hooks/fence");
  h.rejoin = command("/hooks/rejoin");
  h.timeout = std::chrono::seconds(7);
  h.env = {{"PGDATA", "/srv/pg"}};
  REQUIRE(has_hooks(h));

  notify::RunAs run_as;
  run_as.user = "postgres";
  auto setup = hook_setup(router, run_as);
  CHECK(setup.id.router == "pg");
  CHECK(setup.id.vrid == 51);
  using notify::HookKind;
  const std::pair<HookKind, std::string> expected[] = {
      {HookKind::on_master, "/hooks/master"}, {HookKind::on_backup, "/hooks/backup"},
      {HookKind::on_fault, "/hooks/fault"},   {HookKind::on_stop, "/hooks/stop"},
      {HookKind::notify, "/hooks/notify"},    {HookKind::fence, "/hooks/fence"},
      {HookKind::rejoin, "/hooks/rejoin"}};
  for (const auto& [kind, path] : expected) {
    CAPTURE(notify::hook_kind_name(kind));
    REQUIRE(setup.command(kind).has_value());
    CHECK(setup.command(kind)->argv == std::vector<std::string>{path, "arg"});
  }
  CHECK(setup.timeout == std::chrono::seconds(7));
  CHECK(setup.extra_env == h.env);
  REQUIRE(setup.run_as.has_value());
  CHECK(setup.run_as->user == "postgres");
}

TEST_CASE("hook_setup: an unset command stays unset, and the timeout is the config's default") {
  RouterConfig router;
  CHECK_FALSE(has_hooks(router.hooks));
  router.hooks.fence = command("/hooks/fence");
  CHECK(has_hooks(router.hooks));
  auto setup = hook_setup(router, std::nullopt);
  CHECK(setup.command(notify::HookKind::fence).has_value());
  CHECK_FALSE(setup.command(notify::HookKind::on_master).has_value());
  CHECK_FALSE(setup.command(notify::HookKind::rejoin).has_value());
  CHECK(setup.timeout == HookConfig{}.timeout);
  CHECK(setup.timeout > Duration::zero());
  CHECK_FALSE(setup.run_as.has_value());
}

}  // namespace
}  // namespace pgvrrpd
