// Stand-ins for the daemon's edge (netlink, the VRRP socket, the announcer,
// signals, the link check) that record what the code under test asks of
// them, at the fake time, and let a test script their answers: interfaces
// and addresses, received packets, failures.
#pragma once

#include <doctest/doctest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "vrrpd/core/packet.h"
#include "vrrpd/edge/announcer.h"
#include "vrrpd/edge/netlink.h"
#include "vrrpd/edge/vrrp_socket.h"
#include "vrrpd/loop/loop_clock.h"
#include "vrrpd/wiring/daemon_edge.h"

namespace pgvrrpd::testing {

inline IpAddress ip(const char* text) { return IpAddress::parse(text).value(); }
inline IpPrefix prefix(const char* text) { return IpPrefix::parse(text).value(); }

// The kernel's addresses, with the lifetimes netlink gave them.
class FakeNetlink final : public Netlink {
 public:
  struct Interface {
    int ifindex = 0;
    MacAddress mac{};
    std::vector<IpPrefix> addresses;  // the host's own, permanent
  };
  struct Call {
    enum class Kind { add, remove } kind;
    IpPrefix prefix;
    uint32_t lease = 0;
    TimePoint at;
    bool ok = true;
  };

  explicit FakeNetlink(const LoopClock& clock) : clock_(clock) {}

  std::map<std::string, Interface> interfaces;  // by name
  std::vector<Call> calls;                      // add / remove, in order
  int fail_adds = 0;                            // the next n adds fail
  int fail_removes = 0;                         // the next n removes fail

  // The VIP is on the interface now: added, not removed, lease not run out.
  bool has(const IpPrefix& vip) const {
    auto it = vips_.find(vip.to_string());
    return it != vips_.end() && (!it->second || *it->second > clock_.now());
  }
  // A VIP present before the daemon starts (an earlier run left it).
  void leave(const IpPrefix& vip, std::optional<TimePoint> expiry = std::nullopt) {
    vips_[vip.to_string()] = expiry;
  }
  std::vector<Call> calls_of(Call::Kind kind) const {
    std::vector<Call> out;
    for (const auto& c : calls)
      if (c.kind == kind) out.push_back(c);
    return out;
  }

  Result<int> ifindex(const std::string& name) override {
    auto it = interfaces.find(name);
    if (it == interfaces.end()) return Status::error("no such interface " + name);
    return it->second.ifindex;
  }
  Result<MacAddress> mac(int ifindex) override {
    if (const Interface* i = by_index(ifindex)) return i->mac;
    return Status::error("no such interface");
  }
  Result<std::vector<IpPrefix>> addresses(int ifindex, Family family) override {
    const Interface* i = by_index(ifindex);
    if (!i) return Status::error("no such interface");
    std::vector<IpPrefix> out;
    for (const auto& a : i->addresses)
      if (a.address.family() == family) out.push_back(a);
    for (const auto& [text, expiry] : vips_) {
      auto vip = IpPrefix::parse(text).value();
      if (vip.address.family() == family && has(vip)) out.push_back(vip);
    }
    return out;
  }
  Result<IpAddress> primary_address(int ifindex, Family family,
                                    const std::vector<IpPrefix>& exclude) override {
    const Interface* i = by_index(ifindex);
    if (!i) return Status::error("no such interface");
    for (const auto& a : i->addresses) {
      bool excluded = std::any_of(exclude.begin(), exclude.end(),
                                  [&](const IpPrefix& p) { return p.address == a.address; });
      if (a.address.family() != family || excluded) continue;
      if (family == Family::ipv6 && !a.address.is_link_local()) continue;
      return a.address;
    }
    return Status::error("no source address");
  }
  Status add_address(int, const IpPrefix& vip, uint32_t lease) override {
    bool ok = fail_adds == 0;
    if (!ok) --fail_adds;
    calls.push_back({Call::Kind::add, vip, lease, clock_.now(), ok});
    if (!ok) return Status::error("adding " + vip.to_string() + ": No buffer space available");
    vips_[vip.to_string()] =
        lease == 0 ? std::nullopt
                   : std::optional<TimePoint>(clock_.now() + std::chrono::seconds(lease));
    return Status::success();
  }
  Status remove_address(int, const IpPrefix& vip) override {
    bool ok = fail_removes == 0;
    if (!ok) --fail_removes;
    calls.push_back({Call::Kind::remove, vip, 0, clock_.now(), ok});
    if (!ok) return Status::error("removing " + vip.to_string() + ": Device or resource busy");
    vips_.erase(vip.to_string());
    return Status::success();
  }

 private:
  const Interface* by_index(int ifindex) const {
    for (const auto& [name, i] : interfaces)
      if (i.ifindex == ifindex) return &i;
    return nullptr;
  }

  const LoopClock& clock_;
  std::map<std::string, std::optional<TimePoint>> vips_;  // by text; nullopt: permanent
};

// A VRRP socket whose inbox the test fills. It owns an eventfd that is
// readable while the inbox holds something, so the daemon's loop calls its
// readable callback exactly as it would for the raw socket.
class FakeVrrpSocket final : public VrrpSocket {
 public:
  struct Sent {
    vrrp::Advert advert;  // decoded
    IpAddress source;
    IpAddress destination;
    TimePoint at;
  };

  FakeVrrpSocket(const LoopClock& clock, Family family)
      : clock_(clock), family_(family), fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~FakeVrrpSocket() override { close(fd_); }

  std::vector<Sent> sent;
  int fail_sends = 0;  // the next n sends fail

  // A datagram arrives: a VRRP message with its IP facts...
  void deliver(std::vector<uint8_t> message, vrrp::PacketContext context) {
    push({ReceiveResult::Outcome::packet, std::move(message), context});
  }
  // ...or one whose IPv4 header does not parse.
  void deliver_malformed() { push({ReceiveResult::Outcome::malformed, {}, {}}); }

  int fd() const override { return fd_; }
  Family family() const override { return family_; }
  Status send(std::span<const uint8_t> message, const IpAddress& source,
              const IpAddress& destination) override {
    if (fail_sends > 0) {
      --fail_sends;
      return Status::error("send advert: Network is unreachable");
    }
    auto decoded = vrrp::decode(message, {source, destination, vrrp::kRequiredTtl});
    sent.push_back({decoded.advert, source, destination, clock_.now()});
    return Status::success();
  }
  ReceiveResult receive() override {
    if (inbox_.empty()) {
      uint64_t count;
      [[maybe_unused]] auto n = read(fd_, &count, sizeof count);  // no longer readable
      return {};
    }
    current_ = std::move(inbox_.front());
    inbox_.pop_front();
    ReceiveResult r;
    r.outcome = current_.outcome;
    r.packet = {current_.context, current_.bytes};
    return r;
  }

  // Adverts sent at `priority`, in order.
  std::vector<Sent> sent_at(uint8_t priority) const {
    std::vector<Sent> out;
    for (const auto& s : sent)
      if (s.advert.priority == priority) out.push_back(s);
    return out;
  }

 private:
  struct Datagram {
    ReceiveResult::Outcome outcome;
    std::vector<uint8_t> bytes;
    vrrp::PacketContext context;
  };
  void push(Datagram d) {
    inbox_.push_back(std::move(d));
    uint64_t one = 1;
    [[maybe_unused]] auto n = write(fd_, &one, sizeof one);
  }

  const LoopClock& clock_;
  Family family_;
  int fd_;
  std::deque<Datagram> inbox_;
  Datagram current_;  // what the last receive() points into
};

class FakeAnnouncer final : public Announcer {
 public:
  struct Announcement {
    IpAddress vip;
    TimePoint at;
  };
  explicit FakeAnnouncer(const LoopClock& clock) : clock_(clock) {}

  std::vector<Announcement> sent;
  Status announce(const IpAddress& vip, const IpAddress&) override {
    sent.push_back({vip, clock_.now()});
    return Status::success();
  }

 private:
  const LoopClock& clock_;
};

// The link check, reported by the test.
class FakeLinkCheck final : public LinkCheck {
 public:
  explicit FakeLinkCheck(std::function<void()> on_open) : on_open_(std::move(on_open)) {}
  void set_listener(checkers::Checker::Listener listener) override {
    listener_ = std::move(listener);
  }
  Status open() override {
    opened = true;
    if (on_open_) on_open_();
    return Status::success();
  }
  void report(bool up) { listener_(up, up ? "link up" : "link down"); }

  bool opened = false;

 private:
  std::function<void()> on_open_;
  checkers::Checker::Listener listener_;
};

// What Daemon::start opens, recorded in `events` in the order asked
// ("netlink", "socket eth0 IPv4 multicast", "announcer 7 IPv4",
// "signals", "link check eth0", "link check eth0 opened").
class FakeDaemonEdge final : public DaemonEdge {
  const LoopClock& clock_;  // first: the members below use it

 public:
  explicit FakeDaemonEdge(const LoopClock& clock) : clock_(clock) {}

  // Made by open_netlink(); the test fills its interfaces first.
  std::unique_ptr<FakeNetlink> netlink_to_open = std::make_unique<FakeNetlink>(clock_);
  FakeNetlink* netlink = netlink_to_open.get();
  std::map<std::string, FakeVrrpSocket*> sockets;  // by interface
  std::map<int, FakeAnnouncer*> announcers;        // by ifindex
  std::map<std::string, FakeLinkCheck*> link_checks;  // by interface
  std::vector<std::string> events;
  std::function<void()> on_link_check_open;

  // Delivers a signal as the loop's signalfd would.
  void raise(int signal) {
    REQUIRE_MESSAGE(signals_.count(signal), "signal not handled");
    signal_callback_(signal);
  }

  Result<std::unique_ptr<Netlink>> open_netlink() override {
    events.push_back("netlink");
    return std::unique_ptr<Netlink>(std::move(netlink_to_open));
  }
  Result<std::unique_ptr<VrrpSocket>> open_socket(const std::string& interface, int,
                                                  Family family, bool multicast) override {
    events.push_back("socket " + interface + " " + std::string(family_name(family)) +
                     (multicast ? " multicast" : " unicast"));
    auto socket = std::make_unique<FakeVrrpSocket>(clock_, family);
    sockets[interface] = socket.get();
    return std::unique_ptr<VrrpSocket>(std::move(socket));
  }
  Result<std::unique_ptr<Announcer>> open_announcer(int ifindex, MacAddress,
                                                    Family family) override {
    events.push_back("announcer " + std::to_string(ifindex) + " " +
                     std::string(family_name(family)));
    auto announcer = std::make_unique<FakeAnnouncer>(clock_);
    announcers[ifindex] = announcer.get();
    return std::unique_ptr<Announcer>(std::move(announcer));
  }
  Status handle_signals(EventLoop&, std::initializer_list<int> signals,
                        std::function<void(int)> callback) override {
    events.push_back("signals");
    signals_ = signals;
    signal_callback_ = std::move(callback);
    return Status::success();
  }
  std::unique_ptr<LinkCheck> make_link_check(EventLoop&, const std::string& interface) override {
    events.push_back("link check " + interface);
    auto check = std::make_unique<FakeLinkCheck>([this, interface] {
      events.push_back("link check " + interface + " opened");
      if (on_link_check_open) on_link_check_open();
    });
    link_checks[interface] = check.get();
    return check;
  }

 private:
  std::set<int> signals_;
  std::function<void(int)> signal_callback_;
};

}  // namespace pgvrrpd::testing
