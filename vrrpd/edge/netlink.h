// The rtnetlink requests the daemon makes: interface lookups and the virtual
// addresses (RFC 5798 6.4.3: a Master "MUST ... accept packets addressed to
// the IPvX address(es) associated with the virtual router"). An interface so
// the wiring above it (VIP lease, start-up) runs in unit tests against a
// fake; LinuxNetlink (netlink_linux.h) is the real thing, on libnl-route.
//
// Calls are synchronous: each returns when the kernel has answered.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "vrrpd/basics/ip_address.h"
#include "vrrpd/basics/result.h"

namespace pgvrrpd {

using MacAddress = std::array<uint8_t, 6>;

class Netlink {
 public:
  virtual ~Netlink() = default;

  virtual Result<int> ifindex(const std::string& name) = 0;
  // The link-layer address; an error if it is not 6 bytes (not Ethernet-like)
  // or is all zeros (loopback).
  virtual Result<MacAddress> mac(int ifindex) = 0;

  // Every `family` address on the interface, in the kernel's order (for
  // IPv4: primaries before their secondaries, each in the order added).
  virtual Result<std::vector<IpPrefix>> addresses(int ifindex, Family family) = 0;

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
  virtual Result<IpAddress> primary_address(int ifindex, Family family,
                                            const std::vector<IpPrefix>& exclude) = 0;

  // Adds the address, or refreshes it when it already exists: valid and
  // preferred lifetime = lease_seconds, so the kernel itself removes a VIP
  // we stop refreshing (after a crash or kill -9). lease_seconds == 0 means
  // permanent. An IPv6 VIP is usable at once (no DAD): it is taken over from
  // a peer that may still answer DAD.
  virtual Status add_address(int ifindex, const IpPrefix& prefix, uint32_t lease_seconds) = 0;

  // Removes the address; removing one that is absent (never added, already
  // expired) is ok. Matched by address and prefix length.
  virtual Status remove_address(int ifindex, const IpPrefix& prefix) = 0;
};

}  // namespace pgvrrpd
