// Where adverts go out and come in: the VRRP (IP protocol 112) socket of one
// interface and address family, shared by every router on that interface.
// An interface so the daemon's dispatch and the routers' sending run in unit
// tests against a fake; LinuxVrrpSocket (vrrp_socket_linux.h) is the real
// raw socket.
#pragma once

#include <cstdint>
#include <span>

#include "vrrpd/basics/ip_address.h"
#include "vrrpd/basics/result.h"
#include "vrrpd/core/packet.h"

namespace pgvrrpd {

class VrrpSocket {
 public:
  virtual ~VrrpSocket() = default;

  // The descriptor the event loop watches for EPOLLIN: readable when
  // receive() has something to return.
  virtual int fd() const = 0;
  virtual Family family() const = 0;

  // Sends one VRRP message (no IP header) from `source` to `destination`,
  // with TTL / hop limit 255 (RFC 5798 5.1.1.3, 5.1.2.3). Never blocks: a
  // full send buffer is an error.
  virtual Status send(std::span<const uint8_t> message, const IpAddress& source,
                      const IpAddress& destination) = 0;

  // A received message: `message` is the VRRP part only (IPv4 header
  // stripped); `context` holds source, destination and TTL / hop limit.
  struct Received {
    vrrp::PacketContext context;
    std::span<const uint8_t> message;  // valid until the next receive()
  };
  struct ReceiveResult {
    enum class Outcome { packet, malformed, drained, error } outcome = Outcome::drained;
    Received packet;  // valid for Outcome::packet
    Status error;     // set for Outcome::error
  };
  // Reads one pending datagram without blocking. `drained` when none is
  // left; `malformed` when an IPv4 header cannot be parsed.
  virtual ReceiveResult receive() = 0;
};

}  // namespace pgvrrpd
