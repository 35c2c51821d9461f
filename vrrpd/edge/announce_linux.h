// Tells the link that a virtual address now lives at this node's MAC: a
// gratuitous ARP (IPv4) or an unsolicited Neighbor Advertisement (IPv6), as a
// new Master does on taking over (RFC 5798 6.4.1 / 6.4.2, RFC 3768 6.4.1).
//
// Unlike RFC 5798 we announce the interface's own MAC, not the virtual router
// MAC 00-00-5E-00-01-{VRID}: the VIP moves between two hosts' real MACs, so
// neighbours must be told the new one.
//
// One Announcer per interface and family. Sockets are non-blocking and send
// only: nothing is ever queued for reading on them. A full send buffer is an
// error (EAGAIN), not a wait; the caller repeats announcements anyway, since a
// single frame may be lost.
#pragma once

#include <cstdint>

#include "vrrpd/basics/ip_address.h"
#include "vrrpd/edge/netlink_linux.h"  // MacAddress
#include "vrrpd/basics/result.h"

namespace pgvrrpd {

class Announcer {
 public:
  Announcer() = default;
  Announcer(Announcer&& other) noexcept;
  Announcer& operator=(Announcer&& other) noexcept;
  Announcer(const Announcer&) = delete;
  Announcer& operator=(const Announcer&) = delete;
  ~Announcer();

  // Opens the socket for `family` on `ifindex`. IPv4: AF_PACKET/SOCK_DGRAM
  // bound to the interface; IPv6: raw ICMPv6 bound to the interface, hop
  // limit 255. Needs CAP_NET_RAW. Calling it again reopens.
  Status open(int ifindex, MacAddress mac, Family family);
  bool is_open() const { return fd_ >= 0; }

  // REQUIRES: is_open(), vip.family() == the family opened.
  // IPv4: one ARP request to ff:ff:ff:ff:ff:ff with sender and target IP
  //   both `vip` and sender MAC our MAC (RFC 5227 3 "ARP Announcement";
  //   target MAC zero). `source_link_local_for_v6` is ignored.
  // IPv6: one Neighbor Advertisement to ff02::1 (RFC 4861 4.4, 7.2.6):
  //   target `vip`, Override set, Solicited and Router clear, Target
  //   Link-Layer Address option = our MAC, sent from
  //   `source_link_local_for_v6`, which must be a non-tentative link-local
  //   address of the interface (Netlink::primary_address gives it).
  Status announce(const IpAddress& vip, const IpAddress& source_link_local_for_v6);

 private:
  Status announce_v4(const IpAddress& vip);
  Status announce_v6(const IpAddress& vip, const IpAddress& source);
  void close();

  int fd_ = -1;
  int ifindex_ = 0;
  MacAddress mac_{};
  Family family_ = Family::ipv4;
};

}  // namespace pgvrrpd
