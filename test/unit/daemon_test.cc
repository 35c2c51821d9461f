// Daemon on a fake edge and a fake clock: what it opens and in which order,
// where received packets go (or why they are dropped), and how it stops.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "daemon_rig.h"
#include "log_capture.h"
#include "vrrpd/wiring/daemon.h"

using namespace pgvrrpd;
using namespace pgvrrpd::testing;
using namespace std::chrono_literals;

TEST_CASE("daemon: start opens netlink, one socket and announcer per interface and family, "
          "starts the routers, then watches the links") {
  DaemonRig rig(std::string(kTwoRouters) + R"(
[router c]
interface = eth1
vrid = 61
virtual_ip = 2001:db8:100::61/64
peer = fe80::2
)");
  std::vector<vrrp::State> states_when_links_watched;
  rig.edge.on_link_check_open = [&] {
    for (const char* r : {"a", "b", "c"}) states_when_links_watched.push_back(rig.state(r));
  };
  REQUIRE(rig.daemon->start().is_ok());
  std::string events;
  for (const auto& e : rig.edge.events) events += e + "; ";
  CHECK(events ==
        "netlink; socket eth0 IPv4 multicast; announcer 7 IPv4; socket eth1 IPv6 multicast; "
        "announcer 8 IPv6; signals; link check eth0; link check eth1; link check eth0 opened; "
        "link check eth1 opened; ");
  // The routers had started (as backups) before the first link check.
  REQUIRE(states_when_links_watched.size() == 6);
  for (auto s : states_when_links_watched) CHECK(s == vrrp::State::backup);
  // Until the links have a verdict, no router takes over.
  rig.t.run_for(10s);
  for (const char* r : {"a", "b", "c"}) CHECK(rig.state(r) == vrrp::State::backup);
  CHECK(rig.netlink().calls.empty());
}

TEST_CASE("daemon: a start that cannot find its interface fails before changing anything") {
  DaemonRig rig(R"(
[router a]
interface = eth9
vrid = 51
virtual_ip = 198.51.100.51/24
peer = 198.51.100.2
)");
  auto status = rig.daemon->start();
  CHECK_FALSE(status.is_ok());
  CHECK(status.message().find("router a") != std::string::npos);
  CHECK(rig.edge.sockets.empty());
  CHECK(rig.netlink().calls.empty());
}

TEST_CASE("daemon: a valid advert is dispatched to the router of its VRID") {
  DaemonRig rig(kTwoRouters);
  rig.start_as_masters();
  CHECK(rig.netlink().has(kVipA));
  CHECK(rig.netlink().has(kVipB));

  // A higher-priority master for VRID 52 only (RFC 5798 6.4.3).
  rig.receive(advert(52, 200, kVipB));
  CHECK(rig.daemon->received() == 1);
  CHECK(rig.state("a") == vrrp::State::master);
  CHECK(rig.state("b") == vrrp::State::backup);
  CHECK(rig.netlink().has(kVipA));
  CHECK_FALSE(rig.netlink().has(kVipB));
  for (size_t i = 1; i < static_cast<size_t>(vrrp::Reject::count_); ++i)
    CHECK(rig.daemon->dropped(static_cast<vrrp::Reject>(i)) == 0);
}

TEST_CASE("daemon: malformed, unknown-VRID and wrong-TTL packets are dropped and counted by "
          "reason") {
  LogCapture log;
  DaemonRig rig(kTwoRouters);
  rig.start_as_masters();

  rig.socket("eth0").deliver_malformed();
  rig.t.run_due();
  rig.receive({0x31, 0x33, 0x64});                 // three bytes of a header
  rig.receive(advert(99, 200, kVipA));             // no router 99 on eth0
  for (int i = 0; i < 3; ++i)                      // from further than one hop
    rig.receive(advert(51, 200, kVipA), 254);

  using vrrp::Reject;
  CHECK(rig.daemon->dropped(Reject::bad_ip_header) == 1);
  CHECK(rig.daemon->dropped(Reject::too_short) == 1);
  CHECK(rig.daemon->dropped(Reject::unknown_vrid) == 1);
  CHECK(rig.daemon->dropped(Reject::bad_ttl) == 3);
  CHECK(rig.daemon->received() == 6);
  // None of them moved a router: the TTL-254 advert had the higher priority.
  CHECK(rig.state("a") == vrrp::State::master);
  CHECK(rig.state("b") == vrrp::State::master);
  // Each reason is logged once, not once per packet.
  CHECK(log.count("dropped advert on eth0 from 198.51.100.2: bad_ttl") == 1);
  CHECK(log.count("dropped advert on eth0 from 198.51.100.2: unknown_vrid") == 1);
  CHECK(log.count(": bad_ip_header (1 dropped") == 1);
}

TEST_CASE("daemon: more packets than one wake-up reads are all read, over several wake-ups") {
  DaemonRig rig(kTwoRouters);
  rig.start_as_masters();
  for (int i = 0; i < 100; ++i)
    rig.socket("eth0").deliver(advert(99, 200, kVipA),
                               {kPeer, vrrp_multicast_group(Family::ipv4), 255});
  rig.t.run_due();
  CHECK(rig.daemon->received() == 64);  // the bound per wake-up
  rig.t.run_due();
  CHECK(rig.daemon->received() == 100);
}

TEST_CASE("daemon: SIGTERM sends priority 0 adverts, removes the VIPs and stops the loop") {
  DaemonRig rig(kTwoRouters);
  rig.start_as_masters();
  auto& sent = rig.socket("eth0").sent;
  auto before = sent.size();

  rig.edge.raise(SIGTERM);
  REQUIRE(sent.size() == before + 2);
  std::vector<uint8_t> resigned;
  for (size_t i = before; i < sent.size(); ++i) {
    CHECK(sent[i].advert.priority == 0);
    resigned.push_back(sent[i].advert.vrid);
  }
  std::sort(resigned.begin(), resigned.end());
  CHECK(resigned == std::vector<uint8_t>{51, 52});
  CHECK_FALSE(rig.netlink().has(kVipA));
  CHECK_FALSE(rig.netlink().has(kVipB));
  CHECK(rig.state("a") == vrrp::State::initialize);

  rig.t.run_due();  // no hooks, nothing left to remove: done
  CHECK_FALSE(rig.t.loop.running());
}

TEST_CASE("daemon: shutdown waits while a failed VIP removal is retried") {
  DaemonRig rig(kTwoRouters);
  rig.start_as_masters();
  rig.netlink().fail_removes = 3;  // a's and b's first tries, then a's retry
  auto stopping = rig.t.now();
  rig.edge.raise(SIGTERM);
  CHECK(rig.netlink().has(kVipA));

  rig.t.run_until(stopping + 1500ms);
  CHECK(rig.t.loop.running());
  CHECK(rig.netlink().has(kVipA));
  rig.t.run_until(stopping + 2500ms);
  CHECK_FALSE(rig.t.loop.running());
  CHECK_FALSE(rig.netlink().has(kVipA));
}

TEST_CASE("daemon: shutdown waits for a running on_stop hook, up to hook_timeout") {
  LogCapture log;
  // A script: "/bin/sleep 30" would be given the hook's arguments too
  // (INSTANCE a STOP 100) and exit at once, which a loaded run (the fake
  // clock's steps slow enough in real time) noticed before the deadline.
  char dir[] = "/tmp/pgvrrpd-daemon-test-XXXXXX";
  REQUIRE(mkdtemp(dir));
  std::string hook = std::string(dir) + "/sleep.sh";
  std::ofstream(hook) << "#!/bin/sh\nexec /bin/sleep 30\n";
  REQUIRE(chmod(hook.c_str(), 0755) == 0);
  DaemonRig rig(fmt::format(R"(
[router a]
interface = eth0
vrid = 51
virtual_ip = 198.51.100.51/24
peer = 198.51.100.2
on_stop = {}
hook_timeout = 2
)", hook));
  REQUIRE(rig.daemon->start().is_ok());
  rig.edge.link_checks.at("eth0")->report(true);
  rig.t.run_for(5s);
  REQUIRE(rig.state("a") == vrrp::State::master);

  auto stopping = rig.t.now();
  rig.edge.raise(SIGTERM);
  rig.t.run_until(stopping + 2s - 1ms);
  CHECK_MESSAGE(rig.t.loop.running(), log.text());
  rig.t.run_until(stopping + 2s);
  CHECK_FALSE(rig.t.loop.running());
  CHECK_MESSAGE(log.count("hooks still running at shutdown: killing them") == 1, log.text());
  rig.daemon.reset();  // kills and reaps the hook
  std::filesystem::remove_all(dir);
}

TEST_CASE("daemon: shutdown ends as soon as the on_stop hook has finished") {
  LogCapture log;
  DaemonRig rig(R"(
[router a]
interface = eth0
vrid = 51
virtual_ip = 198.51.100.51/24
peer = 198.51.100.2
on_stop = /bin/true
hook_timeout = 30
)");
  REQUIRE(rig.daemon->start().is_ok());
  rig.edge.link_checks.at("eth0")->report(true);
  rig.t.run_for(5s);
  REQUIRE(rig.state("a") == vrrp::State::master);

  auto stopping = rig.t.now();
  rig.edge.raise(SIGTERM);
  // The hook is a real process: give it real time to exit, while the fake
  // clock moves in the daemon's 20 ms steps.
  while (rig.t.loop.running() && rig.t.now() < stopping + 30s) {
    std::this_thread::sleep_for(10ms);
    rig.t.run_for(20ms);
  }
  CHECK_FALSE(rig.t.loop.running());
  CHECK(rig.t.now() < stopping + 30s);
  CHECK(log.count("killing them") == 0);
}
