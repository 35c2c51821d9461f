#include "vrrpd/basics/ip_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace pgvrrpd {

std::string_view family_name(Family family) {
  return family == Family::ipv4 ? "IPv4" : "IPv6";
}

IpAddress IpAddress::v4(std::span<const uint8_t, 4> bytes) {
  IpAddress a;
  a.family_ = Family::ipv4;
  std::copy(bytes.begin(), bytes.end(), a.bytes_.begin());
  return a;
}

IpAddress IpAddress::v6(std::span<const uint8_t, 16> bytes) {
  IpAddress a;
  a.family_ = Family::ipv6;
  std::copy(bytes.begin(), bytes.end(), a.bytes_.begin());
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  // inet_pton needs a NUL-terminated string; addresses are short.
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN] = {};
  std::copy(text.begin(), text.end(), buf);
  std::array<uint8_t, 16> raw{};
  if (inet_pton(AF_INET, buf, raw.data()) == 1)
    return v4(std::span<const uint8_t, 4>(raw.data(), 4));
  if (inet_pton(AF_INET6, buf, raw.data()) == 1)
    return v6(std::span<const uint8_t, 16>(raw.data(), 16));
  return std::nullopt;
}

std::span<const uint8_t> IpAddress::bytes() const {
  return {bytes_.data(), family_ == Family::ipv4 ? 4u : 16u};
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family_ == Family::ipv4 ? AF_INET : AF_INET6, bytes_.data(), buf,
            sizeof buf);
  return buf;
}

bool IpAddress::is_multicast() const {
  return family_ == Family::ipv4 ? (bytes_[0] & 0xf0) == 0xe0 : bytes_[0] == 0xff;
}

bool IpAddress::is_link_local() const {
  if (family_ == Family::ipv4) return bytes_[0] == 169 && bytes_[1] == 254;
  return bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80;
}

bool IpAddress::is_unspecified() const {
  auto b = bytes();
  return std::all_of(b.begin(), b.end(), [](uint8_t x) { return x == 0; });
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text) {
  auto slash = text.find('/');
  auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  unsigned max = address->family() == Family::ipv4 ? 32 : 128;
  unsigned length = max;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
        length > max)
      return std::nullopt;
  }
  return IpPrefix{*address, static_cast<uint8_t>(length)};
}

std::string IpPrefix::to_string() const {
  return address.to_string() + "/" + std::to_string(length);
}

IpAddress vrrp_multicast_group(Family family) {
  if (family == Family::ipv4) {
    static constexpr uint8_t group[4] = {224, 0, 0, 18};
    return IpAddress::v4(group);
  }
  static constexpr uint8_t group[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0,
                                        0,    0,    0, 0, 0, 0, 0, 0x12};
  return IpAddress::v6(group);
}

}  // namespace pgvrrpd
