// VrrpSocket (vrrp_socket.h) as a raw IPPROTO_VRRP (112) socket: sends
// adverts with TTL / hop limit 255 from a chosen source address and returns
// received messages with the IP facts the receive checks need.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vrrpd/basics/ip_address.h"
#include "vrrpd/basics/result.h"
#include "vrrpd/edge/vrrp_socket.h"

namespace pgvrrpd {

class LinuxVrrpSocket final : public VrrpSocket {
 public:
  LinuxVrrpSocket() = default;
  ~LinuxVrrpSocket() override;
  LinuxVrrpSocket(const LinuxVrrpSocket&) = delete;
  LinuxVrrpSocket& operator=(const LinuxVrrpSocket&) = delete;

  // Opens a non-blocking socket bound to `interface`. `join_multicast`:
  // join 224.0.0.18 / ff02::12 there (not needed by unicast-only routers).
  Status open(const std::string& interface, int ifindex, Family family, bool join_multicast);
  int fd() const override { return fd_; }
  Family family() const override { return family_; }

  Status send(std::span<const uint8_t> message, const IpAddress& source,
              const IpAddress& destination) override;
  ReceiveResult receive() override;

 private:
  Status open_ipv4(bool join_multicast);
  Status open_ipv6(bool join_multicast);

  int fd_ = -1;
  int ifindex_ = 0;
  Family family_ = Family::ipv4;
  std::vector<uint8_t> buffer_ = std::vector<uint8_t>(65536);
};

}  // namespace pgvrrpd
