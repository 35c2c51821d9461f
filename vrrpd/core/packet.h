// VRRP advertisement codec: bytes <-> Advert (RFC 5798 5.1-5.2 for v3,
// RFC 3768 5.3 for v2). Pure: no sockets, no logs.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "vrrpd/basics/ip_address.h"
#include "vrrpd/basics/time.h"

namespace pgvrrpd::vrrp {

inline constexpr uint8_t kIpProtocol = 112;  // IANA protocol number (RFC 5798 5.1.1.4)
inline constexpr uint8_t kRequiredTtl = 255; // RFC 5798 5.1.1.3 / 5.1.2.3
inline constexpr size_t kHeaderSize = 8;     // version..checksum
inline constexpr size_t kV2AuthSize = 8;     // RFC 3768 5.3.10

// How a VRRPv3 checksum over IPv4 is computed. RFC 5798 5.2.8 includes the
// IPv4 pseudo-header (what keepalived and FRR send); RFC 9568 and some vendors
// use the plain form. IPv6 always includes its pseudo-header; v2 never does.
enum class ChecksumMode : uint8_t { pseudo_header, plain };

struct Advert {
  uint8_t version = 3;  // 2 or 3
  uint8_t vrid = 0;
  uint8_t priority = 0;
  // v3: Max Adver Int, 12 bits of centiseconds. v2: Adver Int in whole
  // seconds on the wire, held here in centiseconds as well.
  Centiseconds interval{100};
  // All of the packet's family (IPv4 for v2).
  std::vector<IpAddress> addresses;
  // v2 only (RFC 3768 5.3.6, 5.3.10); v3 has no authentication.
  uint8_t auth_type = 0;
  std::array<uint8_t, kV2AuthSize> auth_data{};

  friend bool operator==(const Advert&, const Advert&) = default;
};

// Every reason a received packet is dropped, from the codec (structure) or
// from the receive filter (configuration). Counted per reason by the edge.
enum class Reject : uint8_t {
  none,
  too_short,               // shorter than header + addresses (+ auth for v2)
  bad_ip_header,           // IPv4 header malformed (edge hands raw datagrams)
  bad_version,             // version field not 2 or 3, or not the router's
  bad_type,                // type field not 1 (ADVERTISEMENT)
  bad_checksum,
  bad_ttl,                 // TTL / hop limit not 255 on a multicast advert
  unknown_vrid,            // no router configured for this VRID here
  address_count_mismatch,  // count differs from the configured VIP count
  interval_mismatch,       // v2: Adver Int differs from ours (RFC 3768 7.1)
  auth_mismatch,           // v2: auth type/data differ from ours (RFC 3768 7.1)
  unexpected_source,       // source is not a configured peer (peer, unicast_peer)
  unexpected_destination,  // multicast router: not sent to the VRRP group
  family_mismatch,         // address family differs from the router's
  own_packet,              // our own advert looped back
  owner_conflict,          // we are the address owner (priority 255), RFC 5798 7.1
  address_mismatch,        // as many addresses as our VIPs, but others (RFC 3768 7.1)
  count_                   // number of reasons, keep last
};

std::string_view reject_name(Reject reason);

// What the IP layer told us about a received advert.
struct PacketContext {
  IpAddress source;
  IpAddress destination;
  uint8_t ttl = 0;  // TTL (IPv4) or hop limit (IPv6)
};

// Encodes the VRRP message (no IP header). For v3 over IPv4 `mode` picks
// the checksum form; it is ignored otherwise. `source`/`destination` feed the
// pseudo-header. REQUIRES: addresses all of source's family, at most 255;
// v2 only with IPv4 and an interval of whole seconds 1..255; v3 interval
// 1..4095 centiseconds.
std::vector<uint8_t> encode(const Advert& advert, const IpAddress& source,
                            const IpAddress& destination,
                            ChecksumMode mode = ChecksumMode::pseudo_header);

struct Decoded {
  Reject reject = Reject::none;
  // On bad_checksum the fields are filled anyway, for the log line; on the
  // earlier rejects it is left default.
  Advert advert;
  // For v3 over IPv4: the form whose checksum matched (either is accepted).
  ChecksumMode checksum_mode = ChecksumMode::pseudo_header;
};

// Decodes a VRRP message (no IP header) and checks its structure: length,
// version, type, address count against length, checksum. TTL and
// configuration checks belong to the receive filter. Bytes past the end the
// header implies (count, v2 auth data) are ignored, also by the checksum.
Decoded decode(std::span<const uint8_t> message, const PacketContext& context);

// An IPv4 datagram as a raw IPPROTO_VRRP socket returns it.
struct Ipv4Datagram {
  PacketContext context;
  uint8_t protocol = 0;
  std::span<const uint8_t> payload;  // points into the input
};

// Splits an IPv4 datagram into header facts and payload; nullopt when the
// header is malformed or its total length exceeds the bytes given.
std::optional<Ipv4Datagram> parse_ipv4(std::span<const uint8_t> datagram);

// RFC 1071 Internet checksum over a sequence of byte ranges, as if they were
// concatenated (each range may have odd length).
uint16_t internet_checksum(std::initializer_list<std::span<const uint8_t>> parts);

}  // namespace pgvrrpd::vrrp
