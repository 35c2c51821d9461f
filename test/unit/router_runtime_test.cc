// RouterRuntime on a fake edge and a fake clock: what a router does to the
// interface as it becomes master, stays master and stops (VIPs with their
// lease, adverts, gratuitous ARP).
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

#include "fake_clock.h"
#include "fake_edge.h"
#include "ini_config.h"
#include "vrrpd/wiring/router_runtime.h"

using namespace pgvrrpd;
using namespace pgvrrpd::testing;
using namespace std::chrono_literals;

namespace {

constexpr int kIfindex = 7;
const IpAddress kSource = ip("198.51.100.1");
const IpAddress kPeer = ip("198.51.100.2");
const IpPrefix kVip = prefix("198.51.100.51/24");

// One router on eth0, priority 100; `extra` adds or overrides keys.
std::string router_ini(std::string_view extra) {
  return fmt::format(
      "[router pg]\n"
      "interface = eth0\n"
      "vrid = 51\n"
      "priority = 100\n"
      "virtual_ip = 198.51.100.51/24\n"
      "{}\n",
      extra);
}

struct Rig {
  FakeTimeLoop t;
  FakeNetlink netlink{t.clock};
  FakeVrrpSocket socket{t.clock, Family::ipv4};
  FakeAnnouncer announcer{t.clock};
  Config config;
  std::unique_ptr<RouterRuntime> runtime;

  explicit Rig(std::string_view extra = "") : config(parse_ini(router_ini(extra))) {
    runtime = std::make_unique<RouterRuntime>(
        t.loop, RouterLinks{netlink, socket, announcer, kIfindex, IpAddress()},
        config.routers.at(0), kSource);
  }

  vrrp::State state() const { return runtime->router().state(); }

  // Starts the router with no VIPs on the interface, as the daemon does,
  // and runs until its Master_Down_Timer makes it master.
  TimePoint become_master() {
    runtime->policy().reevaluate();
    runtime->start(false);
    run_until_master();
    return t.now();
  }
  void run_until_master() {
    auto give_up = t.now() + 200s;  // beyond any Master_Down_Interval
    while (state() != vrrp::State::master) {
      auto wake = t.loop.next_wakeup();
      REQUIRE(wake);
      REQUIRE(*wake <= give_up);
      t.run_until(*wake);
    }
  }

  // An advert from a master at `priority` (RFC 5798 6.4.3: a higher one
  // makes a master back off; a backup waits for it).
  void hear_master(uint8_t priority) {
    vrrp::Advert a;
    a.vrid = 51;
    a.priority = priority;
    a.interval = Centiseconds(100);
    a.addresses = {kVip.address};
    runtime->on_advert(a, {kPeer, vrrp_multicast_group(Family::ipv4), vrrp::kRequiredTtl});
  }

  std::vector<FakeNetlink::Call> adds() const {
    return netlink.calls_of(FakeNetlink::Call::Kind::add);
  }
  std::vector<FakeNetlink::Call> removes() const {
    return netlink.calls_of(FakeNetlink::Call::Kind::remove);
  }
};

}  // namespace

TEST_CASE("router runtime: a new master adds its VIPs with the lease and advertises every "
          "advert_interval") {
  Rig rig("vip_lease = 3");
  rig.runtime->policy().reevaluate();
  rig.runtime->start(false);
  auto started = rig.t.now();
  auto down = rig.runtime->router().master_down_interval();

  rig.t.run_until(started + down - 1ms);
  CHECK(rig.state() == vrrp::State::backup);
  CHECK(rig.socket.sent.empty());
  CHECK(rig.netlink.calls.empty());

  rig.t.run_until(started + down);
  REQUIRE(rig.state() == vrrp::State::master);
  auto became = rig.t.now();
  REQUIRE(rig.adds().size() == 1);
  CHECK(rig.adds()[0].prefix == kVip);
  CHECK(rig.adds()[0].lease == 3);
  CHECK(rig.adds()[0].at == became);
  CHECK(rig.netlink.has(kVip));

  rig.t.run_for(10s);
  REQUIRE(rig.socket.sent.size() == 11);
  for (size_t i = 0; i < rig.socket.sent.size(); ++i) {
    const auto& sent = rig.socket.sent[i];
    CAPTURE(i);
    CHECK(sent.at == became + static_cast<int>(i) * 1s);
    CHECK(sent.advert.vrid == 51);
    CHECK(sent.advert.priority == 100);
    CHECK(sent.advert.addresses == std::vector<IpAddress>{kVip.address});
    CHECK(sent.source == kSource);
    CHECK(sent.destination == vrrp_multicast_group(Family::ipv4));
  }
}

TEST_CASE("router runtime: a new master announces each VIP garp_repeat times garp_delay apart, "
          "then every garp_refresh, until it steps down") {
  Rig rig(
      "virtual_ip = 198.51.100.52/24\n"
      "garp_repeat = 3\n"
      "garp_delay = 0.1\n"
      "garp_refresh = 60");
  auto m = rig.become_master();
  rig.t.run_until(m + 130s);

  std::vector<TimePoint> expected = {m, m + 100ms, m + 200ms, m + 60s + 200ms, m + 120s + 200ms};
  for (const char* vip : {"198.51.100.51", "198.51.100.52"}) {
    CAPTURE(vip);
    std::vector<TimePoint> announced;
    for (const auto& a : rig.announcer.sent)
      if (a.vip == ip(vip)) announced.push_back(a.at);
    CHECK(announced == expected);
  }

  // A higher-priority master appears and keeps advertising: the refresh
  // due at m + 180.2 s never comes.
  auto count = rig.announcer.sent.size();
  while (rig.t.now() < m + 190s) {
    rig.hear_master(200);
    REQUIRE(rig.state() == vrrp::State::backup);
    rig.t.run_for(1s);
  }
  CHECK(rig.announcer.sent.size() == count);
}

TEST_CASE("router runtime: shutdown sends a priority 0 advert, removes the VIPs and stops "
          "sending") {
  Rig rig("vip_lease = 3");
  auto m = rig.become_master();
  rig.t.run_until(m + 3500ms);
  auto adverts = rig.socket.sent.size();
  REQUIRE(rig.socket.sent_at(0).empty());

  rig.runtime->shutdown();
  REQUIRE(rig.socket.sent.size() == adverts + 1);
  CHECK(rig.socket.sent.back().advert.priority == 0);
  CHECK(rig.socket.sent.back().at == rig.t.now());
  REQUIRE(rig.removes().size() == 1);
  CHECK(rig.removes()[0].prefix == kVip);
  CHECK_FALSE(rig.netlink.has(kVip));
  CHECK(rig.state() == vrrp::State::initialize);

  auto adds = rig.adds().size();
  auto announced = rig.announcer.sent.size();
  rig.t.run_for(120s);
  CHECK(rig.socket.sent.size() == adverts + 1);
  CHECK(rig.adds().size() == adds);
  CHECK(rig.announcer.sent.size() == announced);
  CHECK_FALSE(rig.t.loop.next_wakeup());  // nothing left armed
}
