// Netlink (netlink.h) on libnl-route.
//
// Calls are synchronous request/ack round trips on a blocking socket; each
// takes well under a millisecond, which the event loop can afford a few times
// per state change. Not thread-safe: one owner, one thread. Link up/down
// events arrive on a socket of their own, subscribed to RTNLGRP_LINK and
// never used for requests (checkers/link_checker_linux.h), so a request's
// ack is never queued behind a burst of notifications.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vrrpd/basics/ip_address.h"
#include "vrrpd/basics/result.h"
#include "vrrpd/edge/netlink.h"

struct nl_sock;

namespace pgvrrpd {

class LinuxNetlink final : public Netlink {
 public:
  // Connects a NETLINK_ROUTE socket. Fails only if the kernel refuses one.
  static Result<LinuxNetlink> open();

  LinuxNetlink(LinuxNetlink&& other) noexcept;
  LinuxNetlink& operator=(LinuxNetlink&& other) noexcept;
  LinuxNetlink(const LinuxNetlink&) = delete;
  LinuxNetlink& operator=(const LinuxNetlink&) = delete;
  ~LinuxNetlink() override;

  Result<int> ifindex(const std::string& name) override;
  Result<MacAddress> mac(int ifindex) override;
  Result<std::vector<IpPrefix>> addresses(int ifindex, Family family) override;
  Result<IpAddress> primary_address(int ifindex, Family family,
                                    const std::vector<IpPrefix>& exclude) override;
  // NLM_F_REPLACE, so an existing address gets the new lifetimes; IPv6
  // addresses get IFA_F_NODAD. Refreshing also rewrites the prefix route's
  // lifetime (IPv6) and may turn a leased address permanent or the other
  // way round.
  Status add_address(int ifindex, const IpPrefix& prefix, uint32_t lease_seconds) override;
  Status remove_address(int ifindex, const IpPrefix& prefix) override;

 private:
  explicit LinuxNetlink(nl_sock* socket) : socket_(socket) {}

  nl_sock* socket_ = nullptr;
};

}  // namespace pgvrrpd
