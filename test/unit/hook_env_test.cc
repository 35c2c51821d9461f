#include "notify/hook_env.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>

#include "notify/run_as_linux.h"

namespace pgvrrpd::notify {
namespace {

HookEvent master_event() {
  HookEvent event;
  event.state = HookState::master;
  event.previous_state = "BACKUP";
  event.reason = "master down interval expired";
  event.priority = 150;
  event.vips = {"198.51.100.210/24", "2001:db8::10/64"};
  event.master = "198.51.100.21";
  event.peer = "198.51.100.22";
  event.peer_port = "5432";
  event.pg = {"standby", 3, "0/3000148", 4096};
  event.sync = {"on", "synchronous", 2, ""};
  return event;
}

TEST_CASE("hook env: argv is the command then TYPE NAME STATE PRIORITY") {
  HookIdentity id{"pg", 51};
  CHECK(hook_argv({"/etc/pgvrrpd/promote.sh", "--fast"}, id, master_event()) ==
        std::vector<std::string>{"/etc/pgvrrpd/promote.sh", "--fast", "INSTANCE", "pg", "MASTER",
                                 "150"});
  HookEvent stop;
  stop.state = HookState::stop;
  CHECK(hook_argv({"/x"}, id, stop) == std::vector<std::string>{"/x", "INSTANCE", "pg", "STOP", "0"});
}

TEST_CASE("hook env: the environment is the base PATH, the operator's variables and the facts") {
  // What exec checks get, and where every hook's environment starts.
  CHECK(base_environment() == std::vector<std::string>{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"});
  HookIdentity id{"pg", 51};
  auto env = hook_environment(id, HookKind::on_master, master_event(),
                              {{"PGDATA", "/var/lib/postgresql/16/main"}});
  CHECK(env == std::vector<std::string>{
                   "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                   "PGDATA=/var/lib/postgresql/16/main",
                   "PGVRRPD_HOOK=on_master",
                   "PGVRRPD_MASTER=198.51.100.21",
                   "PGVRRPD_PEER=198.51.100.22",
                   "PGVRRPD_PEER_PORT=5432",
                   "PGVRRPD_PG_LAG_BYTES=4096",
                   "PGVRRPD_PG_LSN=0/3000148",
                   "PGVRRPD_PG_ROLE=standby",
                   "PGVRRPD_PG_TIMELINE=3",
                   "PGVRRPD_PREVIOUS_STATE=BACKUP",
                   "PGVRRPD_PRIORITY=150",
                   "PGVRRPD_REASON=master down interval expired",
                   "PGVRRPD_ROUTER=pg",
                   "PGVRRPD_STATE=MASTER",
                   "PGVRRPD_SYNC_BLOCKER=",
                   "PGVRRPD_SYNC_CHANGES=2",
                   "PGVRRPD_SYNC_MODE=on",
                   "PGVRRPD_SYNC_STATE=synchronous",
                   "PGVRRPD_VIPS=198.51.100.210/24 2001:db8::10/64",
                   "PGVRRPD_VRID=51",
               });
}

TEST_CASE("hook env: unknown facts are set and empty; operators may override PATH but no fact") {
  HookEvent event;
  event.state = HookState::fault;
  auto env = hook_environment({"pg", 1}, HookKind::notify, event,
                              {{"PATH", "/usr/lib/postgresql/16/bin:/usr/bin:/bin"},
                               {"PGVRRPD_STATE", "MASTER"}});
  auto has = [&](const std::string& var) {
    return std::find(env.begin(), env.end(), var) != env.end();
  };
  CHECK(has("PATH=/usr/lib/postgresql/16/bin:/usr/bin:/bin"));
  CHECK(has("PGVRRPD_STATE=FAULT"));  // config rejects the name; facts win anyway
  CHECK(has("PGVRRPD_HOOK=notify"));
  for (const char* empty : {"PGVRRPD_MASTER=", "PGVRRPD_PEER=", "PGVRRPD_PEER_PORT=",
                            "PGVRRPD_PG_ROLE=", "PGVRRPD_PG_TIMELINE=",
                            "PGVRRPD_PG_LSN=", "PGVRRPD_PG_LAG_BYTES=", "PGVRRPD_VIPS=",
                            "PGVRRPD_SYNC_MODE=", "PGVRRPD_SYNC_STATE=",
                            "PGVRRPD_SYNC_BLOCKER="})
    CHECK_MESSAGE(has(empty), empty);
  CHECK(has("PGVRRPD_SYNC_CHANGES=0"));
  CHECK(env.size() == 20);  // PATH and 19 PGVRRPD_* variables
}

TEST_CASE("hook env: operator variable names") {
  CHECK(check_extra_env_name("PGDATA").is_ok());
  CHECK(check_extra_env_name("_x1").is_ok());
  CHECK(check_extra_env_name("1X").message() == "'1X' is not a variable name");
  CHECK(check_extra_env_name("A-B").message() == "'A-B' is not a variable name");
  CHECK(check_extra_env_name("").message() == "'' is not a variable name");
  CHECK(check_extra_env_name("PGVRRPD_STATE").message() ==
        "PGVRRPD_STATE: PGVRRPD_* variables are set by pgvrrpd");
}

TEST_CASE("hook env: another hook_user runs through setpriv, the daemon's own user does not") {
  auto nobody = resolve_hook_user("nobody");
  REQUIRE(nobody.is_ok());
  CHECK(nobody->uid == 65534);
  CHECK(needs_setpriv(*nobody));
  CHECK(run_as_argv({"/x", "a"}, *nobody) ==
        std::vector<std::string>{"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                                 "--init-groups", "--", "/x", "a"});
  RunAs self{"self", geteuid(), getegid()};
  CHECK_FALSE(needs_setpriv(self));
  CHECK(run_as_argv({"/x"}, self) == std::vector<std::string>{"/x"});
  CHECK(run_as_argv({"/x"}, std::nullopt) == std::vector<std::string>{"/x"});
  CHECK(resolve_hook_user("no-such-user-pgvrrpd").status().message() ==
        "hook_user no-such-user-pgvrrpd: no such user");
  // No hook_user in the file: pgvrrpd's own user, whoever that is.
  auto own = resolve_hook_user("");
  REQUIRE(own.is_ok());
  CHECK(own->uid == geteuid());
  CHECK_FALSE(needs_setpriv(*own));
}

}  // namespace
}  // namespace pgvrrpd::notify
