// The link of a router's interface, tracked implicitly for every router:
// up (IFF_UP and IFF_RUNNING, i.e. administratively up with operational
// state up or unknown) passes, anything else fails at once. No interval and
// no hysteresis: the kernel tells us through rtnetlink link notifications
// (RTMGRP_LINK), so a cable pulled is seen the moment the driver sees it.
//
// The netlink handling is raw rtnetlink rather than libnl's cache manager:
// one message type, parsed by a pure function (parse_link_messages) that
// the unit tests feed canned messages.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "checkers/checker.h"
#include "vrrpd/loop/event_loop_linux.h"
#include "vrrpd/basics/result.h"

namespace pgvrrpd::checkers {

// What one rtnetlink message says about a link.
struct LinkEvent {
  enum class Kind {
    state,    // RTM_NEWLINK: the link exists, `up` says how it is
    deleted,  // RTM_DELLINK
    error,    // NLMSG_ERROR with an errno (e.g. ENODEV for our request)
  };
  Kind kind = Kind::state;
  std::string name;  // IFLA_IFNAME; empty for errors
  bool up = false;
  int error = 0;  // positive errno, for Kind::error
};

// Every link message in one datagram read from a NETLINK_ROUTE socket, in
// order. Malformed or truncated messages end the walk; others (acks, done)
// are skipped.
std::vector<LinkEvent> parse_link_messages(std::span<const uint8_t> datagram);

class LinkChecker : public Checker {
 public:
  LinkChecker(EventLoop& loop, std::string interface);
  ~LinkChecker() override;
  LinkChecker(const LinkChecker&) = delete;
  LinkChecker& operator=(const LinkChecker&) = delete;

  // Subscribes to link notifications and asks for the current state; the
  // first verdict comes with the answer. A check with no answer yet fails.
  void start() override;
  // start() in a form that says why it could not (no netlink socket).
  Status open();

 private:
  Status request_state();
  void on_readable();
  void apply(const LinkEvent& event);

  EventLoop& loop_;
  std::string interface_;
  WatchedFd fd_{loop_};
  uint32_t sequence_ = 0;
  std::optional<bool> up_;  // nullopt: not known yet
};

}  // namespace pgvrrpd::checkers
