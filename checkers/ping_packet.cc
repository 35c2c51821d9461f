#include "checkers/ping_packet.h"

#include <algorithm>

namespace pgvrrpd::checkers {
namespace {

constexpr uint8_t kEchoRequestV4 = 8;
constexpr uint8_t kEchoReplyV4 = 0;
constexpr uint8_t kEchoRequestV6 = 128;
constexpr uint8_t kEchoReplyV6 = 129;
constexpr size_t kHeader = 8;  // type, code, checksum, identifier, sequence

void put16(std::vector<uint8_t>& out, size_t at, uint16_t value) {
  out[at] = static_cast<uint8_t>(value >> 8);
  out[at + 1] = static_cast<uint8_t>(value);
}

uint16_t get16(std::span<const uint8_t> in, size_t at) {
  return static_cast<uint16_t>(in[at] << 8 | in[at + 1]);
}

}  // namespace

uint16_t internet_checksum(std::span<const uint8_t> data) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < data.size(); i += 2) sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  if (data.size() % 2 != 0) sum += static_cast<uint32_t>(data.back() << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

std::vector<uint8_t> build_echo_request(Family family, const EchoId& id) {
  std::vector<uint8_t> out(kHeader + id.cookie.size());
  out[0] = family == Family::ipv4 ? kEchoRequestV4 : kEchoRequestV6;
  put16(out, 4, id.identifier);
  put16(out, 6, id.sequence);
  std::copy(id.cookie.begin(), id.cookie.end(), out.begin() + kHeader);
  if (family == Family::ipv4) put16(out, 2, internet_checksum(out));
  return out;
}

bool is_echo_reply(Family family, std::span<const uint8_t> packet, const EchoId& id) {
  std::span<const uint8_t> icmp = packet;
  if (family == Family::ipv4) {
    // A raw IPv4 socket hands over the IP header too (RFC 791: IHL in
    // 32-bit words).
    if (packet.empty() || packet[0] >> 4 != 4) return false;
    size_t ihl = (packet[0] & 0x0f) * 4u;
    if (ihl < 20 || packet.size() < ihl) return false;
    icmp = packet.subspan(ihl);
  }
  if (icmp.size() != kHeader + id.cookie.size()) return false;
  if (icmp[0] != (family == Family::ipv4 ? kEchoReplyV4 : kEchoReplyV6) || icmp[1] != 0)
    return false;
  if (family == Family::ipv4 && internet_checksum(icmp) != 0) return false;
  return get16(icmp, 4) == id.identifier && get16(icmp, 6) == id.sequence &&
         std::equal(id.cookie.begin(), id.cookie.end(), icmp.begin() + kHeader);
}

}  // namespace pgvrrpd::checkers
