// ICMP / ICMPv6 echo messages for the ping checker: building a request and
// recognising the reply to it. Pure: bytes in, bytes or a verdict out.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "vrrpd/basics/ip_address.h"

namespace pgvrrpd::checkers {

using PingCookie = std::array<uint8_t, 8>;

struct EchoId {
  uint16_t identifier = 0;
  uint16_t sequence = 0;
  PingCookie cookie{};  // random per checker, the payload: tells our replies from others'
};

// An echo request (RFC 792 type 8; RFC 4443 4.1 type 128) carrying `id`.
// The IPv4 checksum is filled in; the ICMPv6 one is left 0 for the kernel,
// which computes it on raw ICMPv6 sockets (RFC 3542 3.1).
std::vector<uint8_t> build_echo_request(Family family, const EchoId& id);

// Whether `packet`, as read from a raw socket (IPv4: with the IP header;
// IPv6: the ICMPv6 message alone), is the echo reply to `id`: type, code,
// identifier, sequence and cookie must all match, and for IPv4 the checksum
// must be right.
bool is_echo_reply(Family family, std::span<const uint8_t> packet, const EchoId& id);

// RFC 1071 Internet checksum of `data`.
uint16_t internet_checksum(std::span<const uint8_t> data);

}  // namespace pgvrrpd::checkers
