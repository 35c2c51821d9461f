// Tells the link that a virtual address now lives at this node's MAC: a
// gratuitous ARP (IPv4) or an unsolicited Neighbor Advertisement (IPv6), as a
// new Master does on taking over (RFC 5798 6.4.1 / 6.4.2, RFC 3768 6.4.1).
// One per interface and family. An interface so the routers' announcement
// schedule runs in unit tests against a fake; LinuxAnnouncer
// (announce_linux.h) sends the frames.
//
// Unlike RFC 5798 we announce the interface's own MAC, not the virtual router
// MAC 00-00-5E-00-01-{VRID}: the VIP moves between two hosts' real MACs, so
// neighbours must be told the new one.
#pragma once

#include "vrrpd/basics/ip_address.h"
#include "vrrpd/basics/result.h"

namespace pgvrrpd {

class Announcer {
 public:
  virtual ~Announcer() = default;

  // REQUIRES: vip.family() == the announcer's family.
  // IPv4: one ARP request to ff:ff:ff:ff:ff:ff with sender and target IP
  //   both `vip` and sender MAC our MAC (RFC 5227 3 "ARP Announcement";
  //   target MAC zero). `source_link_local_for_v6` is ignored.
  // IPv6: one Neighbor Advertisement to ff02::1 (RFC 4861 4.4, 7.2.6):
  //   target `vip`, Override set, Solicited and Router clear, Target
  //   Link-Layer Address option = our MAC, sent from
  //   `source_link_local_for_v6`, which must be a non-tentative link-local
  //   address of the interface (Netlink::primary_address gives it).
  // Never blocks: a full send buffer is an error, and the caller repeats
  // announcements anyway, since a single frame may be lost.
  virtual Status announce(const IpAddress& vip, const IpAddress& source_link_local_for_v6) = 0;
};

}  // namespace pgvrrpd
