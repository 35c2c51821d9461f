// The daemon's rtnetlink requests (libnl-route): interface lookups and the
// virtual addresses (RFC 5798 6.4.3: a Master "MUST ... accept packets
// addressed to the IPvX address(es) associated with the virtual router").
//
// Calls are synchronous request/ack round trips on a blocking socket; each
// takes well under a millisecond, which the event loop can afford a few times
// per state change. Not thread-safe: one owner, one thread. Link up/down
// events arrive on a socket of their own, subscribed to RTNLGRP_LINK and
// never used for requests (checkers/link_checker_linux.h), so a request's
// ack is never queued behind a burst of notifications.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "vrrpd/basics/ip_address.h"
#include "vrrpd/basics/result.h"

struct nl_sock;

namespace pgvrrpd {

using MacAddress = std::array<uint8_t, 6>;

class Netlink {
 public:
  // Connects a NETLINK_ROUTE socket. Fails only if the kernel refuses one.
  static Result<Netlink> open();

  Netlink(Netlink&& other) noexcept;
  Netlink& operator=(Netlink&& other) noexcept;
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;
  ~Netlink();

  Result<int> ifindex(const std::string& name);
  // The link-layer address; an error if it is not 6 bytes (not Ethernet-like)
  // or is all zeros (loopback).
  Result<MacAddress> mac(int ifindex);

  // Every `family` address on the interface, in the kernel's order (for
  // IPv4: primaries before their secondaries, each in the order added).
  Result<std::vector<IpPrefix>> addresses(int ifindex, Family family);

  // The source address our adverts use.
  // IPv4 (RFC 5798 5.1.1.1 "the primary IPv4 address of the interface"): the
  //   first address that is neither in `exclude` (the VIPs; compared by
  //   address, prefix length ignored) nor flagged secondary. If the only
  //   non-VIP addresses are secondaries (a VIP in the same subnet was added
  //   before the host's own address, so the kernel made the VIP primary), the
  //   first of those is used rather than failing.
  // IPv6 (RFC 5798 5.1.2.1 "the IPv6 link-local address of the interface"):
  //   the first fe80::/10 address not in `exclude` (RFC 5798 5.2.9 makes the
  //   first IPv6 VIP a link-local, which must not become our source) and not
  //   tentative or dad-failed (the kernel refuses to send from those).
  // An error when there is none, e.g. while the link-local is still in DAD
  // just after the link came up: the caller retries later.
  Result<IpAddress> primary_address(int ifindex, Family family,
                                    const std::vector<IpPrefix>& exclude);

  // Adds the address, or refreshes it when it already exists (NLM_F_REPLACE):
  // valid_lft = preferred_lft = lease_seconds, so the kernel itself removes
  // a VIP we stop refreshing (after a crash or kill -9). lease_seconds == 0
  // means permanent. IPv6 addresses get IFA_F_NODAD: a VIP is taken over
  // from a peer that may still answer DAD, and must be usable at once.
  // Refreshing also rewrites the prefix route's lifetime (IPv6) and may turn
  // a leased address permanent or the other way round.
  Status add_address(int ifindex, const IpPrefix& prefix, uint32_t lease_seconds);

  // Removes the address; removing one that is absent (never added, already
  // expired) is ok. Matched by address and prefix length.
  Status remove_address(int ifindex, const IpPrefix& prefix);

 private:
  explicit Netlink(nl_sock* socket) : socket_(socket) {}

  nl_sock* socket_ = nullptr;
};

}  // namespace pgvrrpd
