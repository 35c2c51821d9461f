// RouterRuntime on a fake edge and a fake clock: what a router does to the
// interface as it becomes master, stays master and stops (VIPs with their
// lease, adverts, gratuitous ARP), and what it does when netlink fails.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

#include "fake_clock.h"
#include "fake_edge.h"
#include "ini_config.h"
#include "log_capture.h"
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
      "peer = 198.51.100.2\n"
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
    // Beyond any Master_Down_Interval: v2 at 255 s adverts waits 3 x 255 s
    // plus Skew_Time.
    auto give_up = t.now() + 800s;
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

TEST_CASE("router runtime: the VIP lease is refreshed in time for every vip_lease from 0 to 3600") {
  // The slowest adverts v3 allows keep the simulated steps few.
  for (uint32_t lease = 0; lease <= 3600; ++lease) {
    CAPTURE(lease);
    Rig rig(fmt::format("advert_interval = 40.95\nvip_lease = {}", lease));
    auto m = rig.become_master();
    Duration full = std::chrono::seconds(lease);
    // run_until fails on a wake-up in the past or a timer re-armed with a
    // zero period (the loop would spin).
    rig.t.run_until(m + (lease == 0 ? 100s : 2 * full + 1s));

    auto adds = rig.adds();
    REQUIRE(!adds.empty());
    CHECK(adds[0].at == m);
    for (const auto& add : adds) CHECK(add.lease == lease);
    CHECK(rig.netlink.has(kVip));
    if (lease == 0) {
      CHECK(adds.size() == 1);  // permanent: nothing to refresh
      continue;
    }
    CHECK(adds.size() >= 5);
    for (size_t i = 1; i < adds.size(); ++i) {
      auto gap = adds[i].at - adds[i - 1].at;
      CAPTURE(i);
      // Every third of the lease (at most a tenth later, waiting for a gap
      // between adverts): never a busy loop, and each refresh lands with
      // at least half of the lease left.
      CHECK(gap >= full * 3 / 10);
      CHECK(gap <= full / 2);
    }
  }
}

TEST_CASE("router runtime: every router timing key at its smallest and largest value: no "
          "wake-up in the past, no zero period, adverts and announcements on time") {
  // run_until() fails on a wake-up in the past and on a timer re-armed for
  // the same moment (a zero period). vip_lease has its own test above.
  struct Case {
    const char* keys;
    Duration advert;   // the interval adverts must keep
    int repeat;        // garp_repeat
    Duration delay;    // garp_delay
    Duration refresh;  // garp_refresh (0: none)
    Duration span;     // how long to run as master
  };
  const Case cases[] = {
      {"advert_interval = 0.01\ngarp_repeat = 1\ngarp_delay = 0\ngarp_refresh = 0\n"
       "vip_lease = 1",
       10ms, 1, 0ms, 0s, 20s},
      {"advert_interval = 40.95\ngarp_repeat = 100\ngarp_delay = 10\ngarp_refresh = 86400\n"
       "vip_lease = 3600",
       40950ms, 100, 10s, 86400s, 2 * 86400s + 1000s},
      {"version = 2\nadvert_interval = 1\ngarp_repeat = 100\ngarp_delay = 0\n"
       "garp_refresh = 1",
       1s, 100, 0ms, 1s, 10s},
      {"version = 2\nadvert_interval = 255\ngarp_repeat = 0\ngarp_refresh = 0", 255s, 0, 0ms,
       0s, 3000s},
  };
  for (const Case& c : cases) {
    std::string keys = c.keys;
    CAPTURE(keys);
    Rig rig(c.keys);
    auto m = rig.become_master();
    rig.t.run_until(m + c.span);

    const auto& sent = rig.socket.sent;
    REQUIRE(sent.size() >= 3);
    CHECK(sent[0].at == m);
    for (size_t i = 1; i < sent.size(); ++i) {
      CAPTURE(i);
      REQUIRE(sent[i].at - sent[i - 1].at == c.advert);
    }
    std::vector<TimePoint> expected;
    for (int i = 0; i < c.repeat; ++i) expected.push_back(m + i * c.delay);
    if (c.repeat > 0 && c.refresh > 0s)
      for (TimePoint at = expected.back() + c.refresh; at <= m + c.span; at += c.refresh)
        expected.push_back(at);
    std::vector<TimePoint> announced;
    for (const auto& a : rig.announcer.sent) announced.push_back(a.at);
    CHECK(announced.size() == expected.size());
    CHECK(announced == expected);
    CHECK(rig.netlink.has(kVip));
  }
}

TEST_CASE("router runtime: VIPs left by an earlier run keep their lease while the router decides") {
  // A master's daemon restarted: the VIPs are on the interface with what
  // is left of the old run's lease (here none refreshed: an add at start
  // stands for them). Undecided for 3 * 3 s adverts plus skew, longer than
  // the 2 s lease, the router must keep them alive until it decides.
  Rig rig("advert_interval = 3\nvip_lease = 2");
  rig.netlink.leave(kVip, rig.t.now() + 2s);  // the earlier run's, 2 s left
  auto start = rig.t.now();
  rig.runtime->policy().reevaluate();
  rig.runtime->start(true);
  CHECK(rig.state() == vrrp::State::backup);
  for (auto at = start; at < start + 9s; at += 100ms) {
    rig.t.run_until(at);
    REQUIRE(rig.state() == vrrp::State::backup);
    CAPTURE(at - start);
    REQUIRE(rig.netlink.has(kVip));
  }
  // Decided: another master is heard; the VIPs are not ours.
  rig.hear_master(200);
  rig.t.run_for(10ms);
  CHECK_FALSE(rig.netlink.has(kVip));
  auto adds_then = rig.adds().size();
  rig.t.run_for(2s);  // within that master's down interval (its adverts: 1 s)
  CHECK(rig.state() == vrrp::State::backup);
  CHECK(rig.adds().size() == adds_then);  // no refresh after the remove
  CHECK_FALSE(rig.netlink.has(kVip));
}

TEST_CASE("router runtime: a lease refresh waits for a gap between fast adverts and still lands "
          "in time") {
  for (uint32_t lease : {1u, 2u, 3u, 5u}) {
    CAPTURE(lease);
    Rig rig(fmt::format("advert_interval = 0.01\nvip_lease = {}", lease));
    auto m = rig.become_master();
    rig.t.run_until(m + 10s);
    auto adds = rig.adds();
    REQUIRE(adds.size() >= 5);
    Duration full = std::chrono::seconds(lease);
    for (size_t i = 1; i < adds.size(); ++i) {
      CAPTURE(i);
      auto gap = adds[i].at - adds[i - 1].at;
      CHECK(gap >= full * 3 / 10);
      CHECK(gap <= full / 2);
      // The blocking netlink call never runs just before an advert is due.
      for (const auto& s : rig.socket.sent)
        if (s.at > adds[i].at) {
          CHECK(s.at - adds[i].at >= EventLoop::kQuietMargin);
          break;
        }
    }
  }
}

TEST_CASE("router runtime: a failed VIP add is logged and retried until the VIP is on the "
          "interface") {
  struct Case {
    uint32_t lease;
    Duration min_gap, max_gap;  // between attempts
  };
  // Permanent VIPs have no refresh to retry with; a long lease's refresh
  // comes too late; a short one's is sooner than the retry delay.
  for (Case c : {Case{0, 1s, 1200ms}, Case{3600, 1s, 1200ms}, Case{1, 333ms, 433ms}}) {
    CAPTURE(c.lease);
    LogCapture log;
    Rig rig(fmt::format("vip_lease = {}", c.lease));
    rig.netlink.fail_adds = 3;
    auto m = rig.become_master();
    CHECK_FALSE(rig.netlink.has(kVip));
    CHECK(log.count("router pg: add VIP 198.51.100.51/24 on eth0: adding 198.51.100.51/24: No "
                    "buffer space available (attempt 1, retrying)") == 1);

    rig.t.run_until(m + 3 * c.max_gap);
    auto adds = rig.adds();
    REQUIRE(adds.size() >= 4);
    CHECK_FALSE(adds[0].ok);
    CHECK_FALSE(adds[1].ok);
    CHECK_FALSE(adds[2].ok);
    CHECK(adds[3].ok);
    for (size_t i = 1; i <= 3; ++i) {
      CAPTURE(i);
      CHECK(adds[i].at - adds[i - 1].at >= c.min_gap);
      CHECK(adds[i].at - adds[i - 1].at <= c.max_gap);
    }
    CHECK(rig.netlink.has(kVip));
    CHECK(rig.state() == vrrp::State::master);
    // The first failure and the recovery are reported; the retries in
    // between are not, so a long outage does not flood the log.
    CHECK(log.count("add VIP 198.51.100.51/24 on eth0") == 2);
    CHECK(log.count("router pg: add VIP 198.51.100.51/24 on eth0: done after 3 failed attempts") ==
          1);

    if (c.lease == 0) {
      rig.t.run_for(100s);
      CHECK(rig.adds().size() == 4);  // added for good: no more calls
    }
  }
}

TEST_CASE("router runtime: a master whose VIP add keeps failing resigns, so the peer takes "
          "over, and tries again later") {
  LogCapture log;
  Rig rig("vip_lease = 0");
  rig.netlink.fail_adds = 1000;
  auto m = rig.become_master();
  rig.t.run_until(m + VipKeeper::kAddFaultAfter - 100ms);
  CHECK(rig.state() == vrrp::State::master);
  rig.t.run_until(m + VipKeeper::kAddFaultAfter + 100ms);
  CHECK(rig.state() == vrrp::State::fault);
  CHECK(log.count("to=FAULT reason=\"cannot add VIP 198.51.100.51/24 on eth0: adding "
                  "198.51.100.51/24: No buffer space available (failing for 4 attempts)\"") == 1);
  // Resigned as RFC 5798 6.4.3 says a stopping master does: priority 0.
  REQUIRE(rig.socket.sent_at(0).size() == 1);
  CHECK(rig.socket.sent_at(0)[0].at > m + VipKeeper::kAddFaultAfter - 100ms);
  auto adds_when_faulted = rig.adds().size();
  CHECK(adds_when_faulted == 4);
  rig.t.run_for(5s);
  CHECK(rig.adds().size() == adds_when_faulted);  // no retries while it is not master

  // kVipFaultHold later it is a candidate again; once the adds work, master.
  auto faulted = m + VipKeeper::kAddFaultAfter;
  rig.t.run_until(faulted + RouterRuntime::kVipFaultHold + 200ms);
  CHECK(rig.state() == vrrp::State::backup);
  CHECK(log.count("to=BACKUP reason=\"fault cleared: trying the VIPs again\"") == 1);
  rig.netlink.fail_adds = 0;
  rig.run_until_master();
  CHECK(rig.netlink.has(kVip));
}

TEST_CASE("router runtime: a failed VIP remove is retried until the VIP is gone, and no refresh "
          "puts it back") {
  for (uint32_t lease : {0u, 3u}) {
    CAPTURE(lease);
    LogCapture log;
    Rig rig(fmt::format("vip_lease = {}", lease));
    auto m = rig.become_master();
    rig.t.run_until(m + 5s);
    auto adds_as_master = rig.adds().size();

    rig.netlink.fail_removes = 2;
    rig.hear_master(200);
    REQUIRE(rig.state() == vrrp::State::backup);
    auto stepped_down = rig.t.now();
    CHECK(rig.netlink.has(kVip));
    CHECK(rig.runtime->removing_vips());
    CHECK(log.count("router pg: remove VIP 198.51.100.51/24 from eth0: removing "
                    "198.51.100.51/24: Device or resource busy (attempt 1, retrying)") == 1);

    // The peer keeps advertising, so the router stays backup.
    for (int i = 0; i < 5; ++i) {
      rig.t.run_for(1s);
      rig.hear_master(200);
    }
    auto removes = rig.removes();
    REQUIRE(removes.size() == 3);
    CHECK(removes[0].at == stepped_down);
    CHECK_FALSE(removes[1].ok);
    CHECK(removes[2].ok);
    for (size_t i = 1; i < removes.size(); ++i) {
      CHECK(removes[i].at - removes[i - 1].at >= 1s);
      CHECK(removes[i].at - removes[i - 1].at <= 1200ms);
    }
    CHECK_FALSE(rig.netlink.has(kVip));
    CHECK_FALSE(rig.runtime->removing_vips());
    CHECK(rig.adds().size() == adds_as_master);
    CHECK(log.count("remove VIP 198.51.100.51/24 from eth0: done after 2 failed attempts") == 1);
  }
}

TEST_CASE("router runtime: becoming master again ends the retries of a failed VIP remove") {
  Rig rig("vip_lease = 0");
  rig.become_master();
  rig.netlink.fail_removes = 1000;
  rig.hear_master(200);
  REQUIRE(rig.state() == vrrp::State::backup);
  rig.t.run_for(2500ms);
  CHECK(rig.removes().size() == 3);

  rig.run_until_master();  // the peer went quiet
  auto removes = rig.removes().size();
  CHECK_FALSE(rig.runtime->removing_vips());
  CHECK(rig.netlink.has(kVip));
  rig.t.run_for(30s);
  CHECK(rig.removes().size() == removes);
  CHECK(rig.netlink.has(kVip));
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
