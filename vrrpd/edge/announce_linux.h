// Announcer (announcer.h) on Linux sockets. One LinuxAnnouncer per interface
// and family. Sockets are non-blocking and send only: nothing is ever queued
// for reading on them. A full send buffer is an error (EAGAIN), not a wait.
#pragma once

#include <cstdint>

#include "vrrpd/basics/ip_address.h"
#include "vrrpd/basics/result.h"
#include "vrrpd/edge/announcer.h"
#include "vrrpd/edge/netlink.h"  // MacAddress

namespace pgvrrpd {

class LinuxAnnouncer final : public Announcer {
 public:
  LinuxAnnouncer() = default;
  LinuxAnnouncer(LinuxAnnouncer&& other) noexcept;
  LinuxAnnouncer& operator=(LinuxAnnouncer&& other) noexcept;
  LinuxAnnouncer(const LinuxAnnouncer&) = delete;
  LinuxAnnouncer& operator=(const LinuxAnnouncer&) = delete;
  ~LinuxAnnouncer() override;

  // Opens the socket for `family` on `ifindex`. IPv4: AF_PACKET/SOCK_DGRAM
  // bound to the interface; IPv6: raw ICMPv6 bound to the interface, hop
  // limit 255. Needs CAP_NET_RAW. Calling it again reopens.
  Status open(int ifindex, MacAddress mac, Family family);
  bool is_open() const { return fd_ >= 0; }

  // REQUIRES: is_open().
  Status announce(const IpAddress& vip, const IpAddress& source_link_local_for_v6) override;

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
