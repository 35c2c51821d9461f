#include "vrrpd/core/packet.h"

#include <algorithm>

namespace pgvrrpd::vrrp {
namespace {

constexpr uint8_t kTypeAdvertisement = 1;   // RFC 5798 5.2.2, RFC 3768 5.3.2
constexpr uint16_t kMaxAdverIntMask = 0x0fff;  // RFC 5798 5.2.7: 12 bits
constexpr int64_t kCentisecondsPerSecond = 100;

size_t address_size(Family family) { return family == Family::ipv4 ? 4 : 16; }

// Bytes of the message the header implies: fixed fields, addresses and, for
// v2, the authentication data (RFC 3768 5.3.10).
size_t implied_size(uint8_t version, uint8_t count, Family family) {
  return kHeaderSize + count * address_size(family) + (version == 2 ? kV2AuthSize : 0);
}

bool uses_pseudo_header(uint8_t version, Family family, ChecksumMode mode) {
  if (version == 2) return false;  // RFC 3768 5.3.8: the VRRP message only
  if (family == Family::ipv6) return true;  // RFC 5798 5.2.8, RFC 8200 8.1
  return mode == ChecksumMode::pseudo_header;
}

// The checksum of `message` as RFC 5798 5.2.8 / RFC 3768 5.3.8 define it.
// Over a message that carries its checksum, a correct one gives 0.
uint16_t message_checksum(std::span<const uint8_t> message, uint8_t version,
                          const IpAddress& source, const IpAddress& destination,
                          ChecksumMode mode) {
  Family family = source.family();
  if (!uses_pseudo_header(version, family, mode)) return internet_checksum({message});
  auto length = static_cast<uint32_t>(message.size());
  if (family == Family::ipv4) {
    // The UDP-style (RFC 768) IPv4 pseudo-header keepalived and FRR use:
    // zero, protocol, 16-bit length.
    const uint8_t tail[4] = {0, kIpProtocol, static_cast<uint8_t>(length >> 8),
                             static_cast<uint8_t>(length)};
    return internet_checksum({source.bytes(), destination.bytes(), tail, message});
  }
  // RFC 8200 8.1: 32-bit upper-layer length, three zero bytes, next header.
  const uint8_t tail[8] = {static_cast<uint8_t>(length >> 24),
                           static_cast<uint8_t>(length >> 16),
                           static_cast<uint8_t>(length >> 8),
                           static_cast<uint8_t>(length),
                           0, 0, 0, kIpProtocol};
  return internet_checksum({source.bytes(), destination.bytes(), tail, message});
}

Decoded rejected(Reject reason) {
  Decoded out;
  out.reject = reason;
  return out;
}

IpAddress read_address(const uint8_t* at, Family family) {
  if (family == Family::ipv4) return IpAddress::v4(std::span<const uint8_t, 4>(at, 4));
  return IpAddress::v6(std::span<const uint8_t, 16>(at, 16));
}

}  // namespace

std::string_view reject_name(Reject reason) {
  switch (reason) {
    case Reject::none: return "none";
    case Reject::too_short: return "too_short";
    case Reject::bad_ip_header: return "bad_ip_header";
    case Reject::bad_version: return "bad_version";
    case Reject::bad_type: return "bad_type";
    case Reject::bad_checksum: return "bad_checksum";
    case Reject::bad_ttl: return "bad_ttl";
    case Reject::unknown_vrid: return "unknown_vrid";
    case Reject::address_count_mismatch: return "address_count_mismatch";
    case Reject::interval_mismatch: return "interval_mismatch";
    case Reject::auth_mismatch: return "auth_mismatch";
    case Reject::unexpected_source: return "unexpected_source";
    case Reject::address_mismatch: return "address_mismatch";
    case Reject::unexpected_destination: return "unexpected_destination";
    case Reject::family_mismatch: return "family_mismatch";
    case Reject::own_packet: return "own_packet";
    case Reject::owner_conflict: return "owner_conflict";
    case Reject::count_: break;
  }
  return "invalid";
}

std::vector<uint8_t> encode(const Advert& advert, const IpAddress& source,
                            const IpAddress& destination, ChecksumMode mode) {
  std::vector<uint8_t> out;
  out.reserve(implied_size(advert.version, static_cast<uint8_t>(advert.addresses.size()),
                           source.family()));
  // RFC 5798 5.2.1-5.2.2: version in the high nibble, type in the low one.
  out.push_back(static_cast<uint8_t>(advert.version << 4 | kTypeAdvertisement));
  out.push_back(advert.vrid);
  out.push_back(advert.priority);
  out.push_back(static_cast<uint8_t>(advert.addresses.size()));
  if (advert.version == 2) {
    // RFC 3768 5.3.6-5.3.7: Auth Type, then Adver Int in whole seconds.
    out.push_back(advert.auth_type);
    out.push_back(static_cast<uint8_t>(advert.interval.count() / kCentisecondsPerSecond));
  } else {
    // RFC 5798 5.2.6-5.2.7: 4 reserved bits sent as zero, 12-bit Max Adver Int.
    auto interval = static_cast<uint16_t>(advert.interval.count() & kMaxAdverIntMask);
    out.push_back(static_cast<uint8_t>(interval >> 8));
    out.push_back(static_cast<uint8_t>(interval));
  }
  out.push_back(0);  // checksum, filled in below (RFC 5798 5.2.8: zero while summing)
  out.push_back(0);
  for (const IpAddress& address : advert.addresses) {
    auto bytes = address.bytes();
    out.insert(out.end(), bytes.begin(), bytes.end());
  }
  if (advert.version == 2)
    out.insert(out.end(), advert.auth_data.begin(), advert.auth_data.end());
  uint16_t checksum = message_checksum(out, advert.version, source, destination, mode);
  out[6] = static_cast<uint8_t>(checksum >> 8);
  out[7] = static_cast<uint8_t>(checksum);
  return out;
}

Decoded decode(std::span<const uint8_t> message, const PacketContext& context) {
  // RFC 5798 7.1 / RFC 3768 7.1: the complete packet must be there.
  if (message.size() < kHeaderSize) return rejected(Reject::too_short);
  uint8_t version = message[0] >> 4;
  Family family = context.source.family();
  // VRRPv2 exists only for IPv4 (RFC 3768 1); v3 covers both (RFC 5798 1).
  if (version != 2 && version != 3) return rejected(Reject::bad_version);
  if (version == 2 && family == Family::ipv6) return rejected(Reject::bad_version);
  if ((message[0] & 0x0f) != kTypeAdvertisement) return rejected(Reject::bad_type);
  uint8_t count = message[3];
  size_t size = implied_size(version, count, family);
  if (message.size() < size) return rejected(Reject::too_short);
  // Bytes past the implied end are ignored and left out of the checksum:
  // senders (keepalived, FRR) sum exactly the message they build, so anything
  // after it can only be padding or an IP length we did not trim.
  message = message.first(size);

  Decoded out;
  // Filled before the checksum test so a rejected advert can still be logged
  // with its VRID and priority.
  Advert& advert = out.advert;
  advert.version = version;
  advert.vrid = message[1];
  advert.priority = message[2];
  if (version == 2) {
    advert.auth_type = message[4];
    advert.interval = Centiseconds(message[5] * kCentisecondsPerSecond);
  } else {
    // RFC 5798 5.2.6: reserved bits are ignored on reception.
    advert.interval = Centiseconds((message[4] << 8 | message[5]) & kMaxAdverIntMask);
  }
  size_t step = address_size(family);
  advert.addresses.reserve(count);
  for (size_t at = kHeaderSize; at < kHeaderSize + count * step; at += step)
    advert.addresses.push_back(read_address(message.data() + at, family));
  if (version == 2)
    std::copy_n(message.end() - kV2AuthSize, kV2AuthSize, advert.auth_data.begin());

  // RFC 5798 5.2.8 with the IPv4 pseudo-header first; the plain form as
  // well, since peers differ on it for IPv4 (see ChecksumMode).
  const auto& src = context.source;
  const auto& dst = context.destination;
  if (message_checksum(message, version, src, dst, ChecksumMode::pseudo_header) == 0) {
    out.checksum_mode = ChecksumMode::pseudo_header;
  } else if (version == 3 && family == Family::ipv4 &&
             message_checksum(message, version, src, dst, ChecksumMode::plain) == 0) {
    out.checksum_mode = ChecksumMode::plain;
  } else {
    out.reject = Reject::bad_checksum;
  }
  return out;
}

std::optional<Ipv4Datagram> parse_ipv4(std::span<const uint8_t> datagram) {
  constexpr size_t kMinHeader = 20;  // RFC 791 3.1: IHL of 5 words
  if (datagram.size() < kMinHeader) return std::nullopt;
  if (datagram[0] >> 4 != 4) return std::nullopt;
  size_t header = (datagram[0] & 0x0f) * size_t{4};
  size_t total = size_t{datagram[2]} << 8 | datagram[3];
  if (header < kMinHeader || total < header || total > datagram.size()) return std::nullopt;
  Ipv4Datagram out;
  out.context.ttl = datagram[8];
  out.protocol = datagram[9];
  out.context.source = IpAddress::v4(datagram.subspan<12, 4>());
  out.context.destination = IpAddress::v4(datagram.subspan<16, 4>());
  // Total length, not the buffer size, ends the payload: link padding may follow.
  out.payload = datagram.subspan(header, total - header);
  return out;
}

uint16_t internet_checksum(std::initializer_list<std::span<const uint8_t>> parts) {
  // RFC 1071 4.1: 16-bit big-endian words summed with end-around carry. A
  // part may end mid-word; its last byte pairs with the next part's first.
  uint32_t sum = 0;
  bool high = true;
  for (std::span<const uint8_t> part : parts) {
    for (uint8_t byte : part) {
      sum += high ? uint32_t{byte} << 8 : byte;
      high = !high;
    }
    // Fold often enough that the 32-bit sum cannot overflow.
    sum = (sum & 0xffff) + (sum >> 16);
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

}  // namespace pgvrrpd::vrrp
