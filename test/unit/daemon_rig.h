// A Daemon on the fake edge and fake clock, for the wiring tests
// (daemon_test.cc, daemon_reload_test.cc): eth0 (IPv4) and eth1 (IPv6).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fake_clock.h"
#include "fake_edge.h"
#include "ini_config.h"
#include "vrrpd/wiring/daemon.h"

namespace pgvrrpd::testing {

using namespace std::chrono_literals;

inline const IpAddress kPeer = ip("198.51.100.2");
inline const IpPrefix kVipA = prefix("198.51.100.51/24");
inline const IpPrefix kVipB = prefix("198.51.100.52/24");

// Two routers sharing eth0 (one socket, one announcer), no checks, no hooks.
inline constexpr std::string_view kTwoRouters = R"(
[router a]
interface = eth0
vrid = 51
virtual_ip = 198.51.100.51/24
peer = 198.51.100.2

[router b]
interface = eth0
vrid = 52
virtual_ip = 198.51.100.52/24
peer = 198.51.100.2
)";

struct DaemonRig {
  FakeTimeLoop t;
  FakeDaemonEdge edge{t.clock};
  std::unique_ptr<Daemon> daemon;

  explicit DaemonRig(std::string_view ini) {
    edge.netlink->interfaces["eth0"] = {7, {2, 0, 0, 0, 0, 7}, {prefix("198.51.100.1/24")}};
    edge.netlink->interfaces["eth1"] = {
        8, {2, 0, 0, 0, 0, 8}, {prefix("fe80::8/64"), prefix("2001:db8:100::8/64")}};
    daemon = std::make_unique<Daemon>(parse_ini(ini), t.loop, edge);
  }

  vrrp::State state(std::string_view router) const {
    const RouterRuntime* r = daemon->find_router(router);
    REQUIRE(r);
    return r->router().state();
  }
  FakeVrrpSocket& socket(const std::string& interface) { return *edge.sockets.at(interface); }
  FakeNetlink& netlink() { return *edge.netlink; }

  // Started, links up, every router master (their master went quiet).
  void start_as_masters() {
    REQUIRE(daemon->start().is_ok());
    for (auto& [name, check] : edge.link_checks) check->report(true);
    t.run_for(5s);  // beyond Master_Down_Interval at 1 s adverts
    for (const char* r : {"a", "b"}) REQUIRE(state(r) == vrrp::State::master);
  }

  // A packet arrives on eth0; the loop sees the socket readable.
  void receive(std::vector<uint8_t> message, uint8_t ttl = vrrp::kRequiredTtl) {
    socket("eth0").deliver(std::move(message),
                           {kPeer, vrrp_multicast_group(Family::ipv4), ttl});
    t.run_due();
  }
};

inline std::vector<uint8_t> advert(uint8_t vrid, uint8_t priority, const IpPrefix& vip) {
  vrrp::Advert a;
  a.vrid = vrid;
  a.priority = priority;
  a.interval = Centiseconds(100);
  a.addresses = {vip.address};
  return vrrp::encode(a, kPeer, vrrp_multicast_group(Family::ipv4));
}


}  // namespace pgvrrpd::testing
