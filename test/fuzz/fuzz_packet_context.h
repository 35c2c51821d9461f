// A PacketContext from fuzz input: the family, the two addresses and the TTL.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <array>

#include "vrrpd/core/packet.h"

namespace pgvrrpd::fuzz {

inline IpAddress address(FuzzedDataProvider& in, Family family) {
  if (family == Family::ipv4) {
    std::array<uint8_t, 4> b{};
    for (auto& x : b) x = in.ConsumeIntegral<uint8_t>();
    return IpAddress::v4(b);
  }
  std::array<uint8_t, 16> b{};
  for (auto& x : b) x = in.ConsumeIntegral<uint8_t>();
  return IpAddress::v6(b);
}

inline vrrp::PacketContext packet_context(FuzzedDataProvider& in) {
  Family family = in.ConsumeBool() ? Family::ipv6 : Family::ipv4;
  vrrp::PacketContext context;
  context.source = address(in, family);
  context.destination = address(in, family);
  context.ttl = in.ConsumeIntegral<uint8_t>();
  return context;
}

}  // namespace pgvrrpd::fuzz
