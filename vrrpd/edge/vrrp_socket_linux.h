// The raw IPPROTO_VRRP (112) socket of one interface and address family,
// shared by every router on that interface. Sends adverts with TTL / hop
// limit 255 (RFC 5798 5.1.1.3, 5.1.2.3) from a chosen source address and
// returns received messages with the IP facts the receive checks need.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "vrrpd/basics/ip_address.h"
#include "vrrpd/core/packet.h"
#include "vrrpd/basics/result.h"

namespace pgvrrpd {

class VrrpSocket {
 public:
  VrrpSocket() = default;
  ~VrrpSocket();
  VrrpSocket(const VrrpSocket&) = delete;
  VrrpSocket& operator=(const VrrpSocket&) = delete;

  // Opens a non-blocking socket bound to `interface`. `join_multicast`:
  // join 224.0.0.18 / ff02::12 there (not needed by unicast-only routers).
  Status open(const std::string& interface, int ifindex, Family family, bool join_multicast);
  int fd() const { return fd_; }
  Family family() const { return family_; }

  // Sends one VRRP message (no IP header) from `source` to `destination`.
  Status send(std::span<const uint8_t> message, const IpAddress& source,
              const IpAddress& destination);

  // A received message: `message` is the VRRP part only (IPv4 header
  // stripped); `context` holds source, destination and TTL / hop limit.
  struct Received {
    vrrp::PacketContext context;
    std::span<const uint8_t> message;
  };
  struct ReceiveResult {
    enum class Outcome { packet, malformed, drained, error } outcome = Outcome::drained;
    Received packet;  // valid for Outcome::packet
    Status error;     // set for Outcome::error
  };
  // Reads one pending datagram. `drained` when none is left; `malformed`
  // when an IPv4 header cannot be parsed.
  ReceiveResult receive();

 private:
  Status open_ipv4(bool join_multicast);
  Status open_ipv6(bool join_multicast);

  int fd_ = -1;
  int ifindex_ = 0;
  Family family_ = Family::ipv4;
  std::vector<uint8_t> buffer_ = std::vector<uint8_t>(65536);
};

}  // namespace pgvrrpd
