// Everything the Daemon opens on the system, behind one interface: main.cc
// gives it LinuxDaemonEdge (daemon_edge_linux.h), and a unit test gives it
// fakes (test/unit/fake_edge.h), so that start-up, the dispatch of received
// adverts and the shutdown run in tests with a fake clock.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>

#include "checkers/checker.h"
#include "vrrpd/basics/ip_address.h"
#include "vrrpd/basics/result.h"
#include "vrrpd/edge/announcer.h"
#include "vrrpd/edge/netlink.h"
#include "vrrpd/edge/vrrp_socket.h"
#include "vrrpd/loop/event_loop_linux.h"

namespace pgvrrpd {

// The link state of one interface, tracked implicitly by every router on it
// (checkers::LinkChecker): a lost link is a fault.
class LinkCheck {
 public:
  virtual ~LinkCheck() = default;
  // Called with every verdict: up or not, and why.
  virtual void set_listener(checkers::Checker::Listener listener) = 0;
  // Starts watching; the first verdict comes later, from the loop. An error
  // when the link cannot be watched at all.
  virtual Status open() = 0;
};

class DaemonEdge {
 public:
  virtual ~DaemonEdge() = default;

  virtual Result<std::unique_ptr<Netlink>> open_netlink() = 0;
  // The VRRP socket of one interface and family; `join_multicast` when a
  // router there uses the multicast group (see LinuxVrrpSocket::open).
  virtual Result<std::unique_ptr<VrrpSocket>> open_socket(const std::string& interface,
                                                          int ifindex, Family family,
                                                          bool join_multicast) = 0;
  virtual Result<std::unique_ptr<Announcer>> open_announcer(int ifindex, MacAddress mac,
                                                            Family family) = 0;
  // Delivers `signals` through `loop` to `callback` instead of their default
  // action (EventLoop::handle_signals).
  virtual Status handle_signals(EventLoop& loop, std::initializer_list<int> signals,
                                std::function<void(int)> callback) = 0;
  virtual std::unique_ptr<LinkCheck> make_link_check(EventLoop& loop,
                                                     const std::string& interface) = 0;
};

}  // namespace pgvrrpd
