// IPv4/IPv6 address and prefix values, comparable byte-wise in network order
// (the order RFC 5798 6.4.3 uses for the primary-address tie-break).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace pgvrrpd {

enum class Family : uint8_t { ipv4, ipv6 };

std::string_view family_name(Family family);

class IpAddress {
 public:
  IpAddress() = default;
  static IpAddress v4(std::span<const uint8_t, 4> bytes);
  static IpAddress v6(std::span<const uint8_t, 16> bytes);
  // Accepts dotted quad or RFC 4291 text; nullopt for anything else.
  static std::optional<IpAddress> parse(std::string_view text);

  Family family() const { return family_; }
  // 4 bytes for IPv4, 16 for IPv6, network order.
  std::span<const uint8_t> bytes() const;
  std::string to_string() const;

  bool is_multicast() const;
  bool is_link_local() const;  // fe80::/10 or 169.254/16
  bool is_unspecified() const;

  // Orders IPv4 before IPv6, then by bytes in network order.
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;

 private:
  Family family_ = Family::ipv4;
  std::array<uint8_t, 16> bytes_{};
};

struct IpPrefix {
  IpAddress address;
  uint8_t length = 0;

  // "address/length"; without "/length" the host prefix (32 or 128) is used.
  static std::optional<IpPrefix> parse(std::string_view text);
  std::string to_string() const;
  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

// The VRRP multicast groups: 224.0.0.18 and ff02::12 (RFC 5798 5.1.1.2, 5.1.2.2).
IpAddress vrrp_multicast_group(Family family);

}  // namespace pgvrrpd
