// Adverts shared by the codec and receive-filter tests.
#pragma once

#include <string_view>

#include "vrrpd/core/packet.h"

namespace pgvrrpd::vrrp::fixtures {

inline IpAddress ip(std::string_view text) { return IpAddress::parse(text).value(); }

// The v3 IPv4 advert captured from keepalived 2.2.7 (kV3Ipv4 in packet_test).
inline Advert v3_ipv4_advert() {
  Advert a;
  a.version = 3;
  a.vrid = 51;
  a.priority = 150;
  a.interval = Centiseconds(100);
  a.addresses = {ip("198.51.100.100"), ip("198.51.100.101")};
  return a;
}

}  // namespace pgvrrpd::vrrp::fixtures
