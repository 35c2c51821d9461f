// Daemon::reload on the fake edge: unchanged routers carry on untouched,
// removed ones stop as at shutdown, added and changed ones start once those
// have settled; what cannot be applied is refused and changes nothing.
#include <doctest/doctest.h>

#include <csignal>
#include <string>

#include "daemon_rig.h"
#include "log_capture.h"

using namespace pgvrrpd;
using namespace pgvrrpd::testing;

namespace {

// Router a as in kTwoRouters, b gone, c added on eth0.
constexpr std::string_view kRouterAAndC = R"(
[router a]
interface = eth0
vrid = 51
virtual_ip = 198.51.100.51/24
peer = 198.51.100.2

[router c]
interface = eth0
vrid = 53
virtual_ip = 198.51.100.53/24
peer = 198.51.100.2
)";

const IpPrefix kVipC = prefix("198.51.100.53/24");

struct ReloadRig : DaemonRig {
  std::string next_file;

  explicit ReloadRig(std::string_view ini) : DaemonRig(ini) {
    daemon->set_config_reader([this] { return parse_config(next_file, "test.ini", {}); });
  }
  std::string reload(std::string_view text) {
    next_file = std::string(text);
    return daemon->reload();
  }
  size_t adverts_of(uint8_t vrid, uint8_t priority) {
    size_t n = 0;
    for (const auto& s : socket("eth0").sent)
      n += s.advert.vrid == vrid && s.advert.priority == priority;
    return n;
  }
};

std::string replace(std::string text, std::string_view from, std::string_view to) {
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("reload: an unchanged router carries on, a removed one stops, an added one starts") {
  LogCapture log;
  ReloadRig rig(kTwoRouters);
  rig.start_as_masters();
  const RouterRuntime* a = rig.daemon->find_router("a");
  auto a_transitions = a->last_transition()->at;
  auto sockets_opened = rig.edge.events.size();

  std::string answer = rig.reload(kRouterAAndC);
  CHECK_MESSAGE(answer.rfind("reloading: stopping b; starting c; 1 router unchanged", 0) == 0,
                answer);
  // b resigned at once, as at shutdown; a was not touched.
  CHECK(rig.adverts_of(52, 0) == 1);
  CHECK_FALSE(rig.netlink().has(kVipB));
  CHECK(rig.netlink().has(kVipA));
  CHECK(rig.daemon->reloading());

  rig.t.run_due();  // b has nothing left to wait for: c starts
  CHECK_FALSE(rig.daemon->reloading());
  CHECK(rig.daemon->find_router("a") == a);
  CHECK(a->last_transition()->at == a_transitions);
  CHECK(rig.daemon->find_router("b") == nullptr);
  REQUIRE(rig.daemon->find_router("c"));
  CHECK(rig.state("c") == vrrp::State::backup);
  // The same socket: nothing was reopened.
  CHECK(rig.edge.events.size() == sockets_opened);
  CHECK_MESSAGE(log.count("reload: done: 2 routers running, started c") == 1, log.text());

  // c was told the link is up (it was before the reload): it takes over
  // when no master speaks, while a never stopped advertising.
  auto a_adverts = rig.adverts_of(51, 100);
  rig.t.run_for(5s);
  CHECK(rig.state("c") == vrrp::State::master);
  CHECK(rig.netlink().has(kVipC));
  CHECK(rig.state("a") == vrrp::State::master);
  CHECK(rig.adverts_of(51, 100) >= a_adverts + 4);  // one a second
  // Adverts for the removed VRID are now dropped as unknown.
  rig.receive(advert(52, 100, kVipB));
  CHECK(rig.daemon->dropped(vrrp::Reject::unknown_vrid) == 1);
}

TEST_CASE("reload: a changed router that is MASTER is refused, and nothing changes") {
  LogCapture log;
  ReloadRig rig(kTwoRouters);
  rig.start_as_masters();
  std::string answer =
      rig.reload(replace(std::string(kTwoRouters), "vrid = 52", "vrid = 52\npriority = 150"));
  CHECK_MESSAGE(answer.rfind("error: router b changed and is MASTER here", 0) == 0, answer);
  CHECK_FALSE(rig.daemon->reloading());
  CHECK(rig.adverts_of(52, 0) == 0);
  CHECK(rig.state("b") == vrrp::State::master);
  CHECK(rig.daemon->find_router("b")->config().params.priority == 100);
}

TEST_CASE("reload: a changed backup router restarts with its new settings") {
  LogCapture log;
  ReloadRig rig(kTwoRouters);
  rig.start_as_masters();
  // A peer with a higher priority takes b over: b is BACKUP.
  rig.receive(advert(52, 200, kVipB));
  REQUIRE(rig.state("b") == vrrp::State::backup);
  const RouterRuntime* old_b = rig.daemon->find_router("b");

  std::string answer =
      rig.reload(replace(std::string(kTwoRouters), "vrid = 52", "vrid = 52\npriority = 150"));
  CHECK_MESSAGE(answer.rfind("reloading: restarting b; 1 router unchanged", 0) == 0, answer);
  CHECK(rig.adverts_of(52, 0) == 0);  // a backup has nothing to resign
  rig.t.run_due();
  const RouterRuntime* b = rig.daemon->find_router("b");
  REQUIRE(b);
  CHECK(b != old_b);
  CHECK(b->config().params.priority == 150);
  CHECK(rig.state("b") == vrrp::State::backup);
  CHECK(rig.state("a") == vrrp::State::master);
}

TEST_CASE("reload: an unknown interface is refused before anything stops") {
  LogCapture log;
  ReloadRig rig(kTwoRouters);
  rig.start_as_masters();
  std::string answer = rig.reload(replace(std::string(kRouterAAndC),
                                          "interface = eth0\nvrid = 53",
                                          "interface = eth9\nvrid = 53"));
  CHECK_MESSAGE(answer.rfind("error: router c: ", 0) == 0, answer);
  CHECK(rig.daemon->find_router("b"));
  CHECK(rig.state("b") == vrrp::State::master);
  CHECK(rig.adverts_of(52, 0) == 0);
}

TEST_CASE("reload: a SIGTERM while routers retire stops everything, starting nothing new") {
  LogCapture log;
  ReloadRig rig(kTwoRouters);
  rig.start_as_masters();
  rig.netlink().fail_removes = 1;  // b's VIP removal is retried: b retires for a while
  CHECK(rig.reload(kRouterAAndC).rfind("reloading:", 0) == 0);
  CHECK(rig.daemon->reload().rfind("error: the last reload is still stopping routers", 0) == 0);
  rig.edge.raise(SIGTERM);
  rig.t.run_for(3s);
  CHECK_FALSE(rig.t.loop.running());
  CHECK(rig.daemon->find_router("c") == nullptr);
  CHECK_FALSE(rig.netlink().has(kVipA));
  CHECK_FALSE(rig.netlink().has(kVipB));
  CHECK(log.count("reload: not starting the new routers: shutting down") == 1);
}
