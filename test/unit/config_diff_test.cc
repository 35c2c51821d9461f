// What a reload changes (config/config_diff.h), from two parsed files.
#include "vrrpd/config/config_diff.h"

#include <doctest/doctest.h>

#include <string>

using pgvrrpd::Config;
using pgvrrpd::ConfigValidators;
using pgvrrpd::parse_config;
using pgvrrpd::plan_reload;
using Names = std::vector<std::string>;

namespace {

Config parse(const std::string& text) {
  auto result = parse_config(text, "test.ini", ConfigValidators{});
  REQUIRE_MESSAGE(result.ok(), result.errors.front().to_string());
  return result.config;
}

const std::string kRunning = R"ini([global]
node = n1
[router pg]
interface = eth0
vrid = 51
priority = 254
advert_interval = 0.1
virtual_ip = 198.51.100.100/24
peer = 198.51.100.12
track = pg
[router web]
interface = eth0
vrid = 52
virtual_ip = 198.51.100.101/24
peer = 198.51.100.12
[check pg]
type = postgres
conninfo = host=/run/postgresql dbname=postgres
interval = 1
)ini";

std::string replace(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("reload plan: the same settings, moved and commented, change nothing") {
  std::string moved = replace(kRunning, "priority = 254\nadvert_interval = 0.1\n",
                              "; a comment\nadvert_interval = 0.10\npriority = 254\n");
  auto plan = plan_reload(parse(kRunning), parse(moved));
  CHECK(plan.nothing());
  CHECK(plan.unchanged == Names{"pg", "web"});
  CHECK(plan.needs_restart.empty());
}

TEST_CASE("reload plan: a changed router, a changed tracked check, added and removed ones") {
  auto running = parse(kRunning);
  auto plan = plan_reload(running, parse(replace(kRunning, "vrid = 52", "vrid = 53")));
  CHECK(plan.unchanged == Names{"pg"});
  CHECK(plan.changed == Names{"web"});
  // A check is part of every router that tracks it.
  plan = plan_reload(running, parse(replace(kRunning, "interval = 1\n", "interval = 2\n")));
  CHECK(plan.changed == Names{"pg"});
  CHECK(plan.unchanged == Names{"web"});
  CHECK(plan.changed_checks == Names{"pg"});
  // Renamed: the old one goes, the new one comes.
  plan = plan_reload(running, parse(replace(kRunning, "[router web]", "[router api]")));
  CHECK(plan.removed == Names{"web"});
  CHECK(plan.added == Names{"api"});
  CHECK(plan.unchanged == Names{"pg"});
  CHECK(plan.changed_checks.empty());
  CHECK_FALSE(plan.nothing());
}

TEST_CASE("reload plan: global keys") {
  auto running = parse(kRunning);
  auto plan = plan_reload(running, parse(replace(kRunning, "node = n1\n",
                                                 "node = n1\ncontrol_socket = /run/x.sock\n")));
  CHECK(plan.needs_restart == Names{"control_socket"});
  plan = plan_reload(running, parse(replace(kRunning, "node = n1\n",
                                            "node = n1\nmetrics_file = /run/m.prom\n")));
  CHECK(plan.metrics_changed);
  CHECK(plan.needs_restart.empty());
  CHECK(plan.unchanged == Names{"pg", "web"});
  plan = plan_reload(running, parse(replace(kRunning, "node = n1", "node = east")));
  CHECK(plan.node_changed);
}
