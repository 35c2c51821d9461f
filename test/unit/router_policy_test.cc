// RouterPolicy, the glue between checks and the state machine: check
// effects (fault, weight) and "no takeover before every check has a
// verdict", driven without checkers (verdicts handed in directly).
#include <doctest/doctest.h>

#include "router_fixtures.h"
#include "vrrpd/loop/event_loop_linux.h"
#include "vrrpd/wiring/router_policy.h"

using namespace router_fixtures;

namespace {

struct Rig {
  EventLoop loop;
  RouterConfig config;
  CheckConfig pg;
  CheckConfig witness;
  CheckConfig extra;
  std::unique_ptr<Router> router;
  std::unique_ptr<RouterPolicy> policy;
  Actions seen;

  explicit Rig(uint8_t priority) {
    REQUIRE(loop.open());
    config.interface = "eth0";
    config.params = params(priority);
    pg.name = "pg";
    witness.name = "witness";
    extra.name = "extra";
    extra.effect = CheckEffect::weight;
    extra.weight = -50;
    router = std::make_unique<Router>(config.params, kSelf);
    policy = std::make_unique<RouterPolicy>(loop, config, *router, [this](const Actions& a) {
      seen.insert(seen.end(), a.begin(), a.end());
    });
  }
};

}  // namespace

TEST_CASE("router policy: no takeover until every tracked check has a verdict") {
  Rig rig(100);
  rig.policy->track(rig.pg);
  rig.policy->track(rig.witness);
  rig.policy->reevaluate();
  auto t = rig.loop.now();
  rig.router->start(t);
  rig.router->expire(t + rig.router->master_down_interval());
  CHECK(rig.router->state() == State::backup);
  CHECK(rig.router->takeover_held());
  rig.policy->on_check(rig.pg, true, "answering as primary");
  CHECK(rig.router->state() == State::backup);  // the witness has no verdict yet
  rig.policy->on_check(rig.witness, true, "reply in 0.1 ms");
  CHECK(rig.router->state() == State::master);
}

TEST_CASE("router policy: effect = fault puts the router in FAULT while the check fails") {
  Rig rig(150);
  rig.policy->track(rig.witness);
  rig.policy->on_check(rig.witness, true, "reply");
  auto t = rig.loop.now();
  rig.router->start(t);
  rig.router->expire(t + rig.router->master_down_interval());
  REQUIRE(rig.router->state() == State::master);
  rig.policy->on_check(rig.witness, false, "no reply within 50 ms");
  CHECK(rig.router->state() == State::fault);
  bool logged = false;
  for (const auto& a : rig.seen)
    if (a.kind == Kind::transition && a.to == State::fault)
      logged = a.reason == "check witness failed: no reply within 50 ms";
  CHECK(logged);
  rig.policy->on_check(rig.witness, true, "reply");
  CHECK(rig.router->state() == State::backup);
}

TEST_CASE("router policy: effect = weight changes the priority (keepalived's rule)") {
  Rig rig(120);
  rig.policy->track(rig.extra);  // weight -50: counts while failing
  rig.policy->on_check(rig.extra, false, "exit 1");
  CHECK(rig.router->priority() == 70);
  rig.policy->on_check(rig.extra, true, "exit 0");
  CHECK(rig.router->priority() == 120);
  CheckConfig bonus = rig.extra;
  bonus.name = "bonus";
  bonus.weight = 200;  // counts while passing, capped at 254
  rig.policy->track(bonus);
  rig.policy->on_check(bonus, true, "exit 0");
  CHECK(rig.router->priority() == 254);
}

TEST_CASE("router policy: the link going down is a fault") {
  Rig rig(150);
  rig.policy->track_link();
  rig.policy->on_link(true, "up");
  auto t = rig.loop.now();
  rig.router->start(t);
  rig.policy->on_link(false, "carrier lost");
  CHECK(rig.router->state() == State::fault);
  rig.policy->on_link(true, "up");
  CHECK(rig.router->state() == State::backup);
}
