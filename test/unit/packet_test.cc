// The VRRP codec against adverts captured from keepalived 2.2.7 (Debian
// package) running in a network namespace, on a veth, captured with tcpdump.
// Golden bytes come from that capture, never from our own encoder.
#include "vrrpd/core/packet.h"

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <string_view>

#include "advert_fixtures.h"

namespace pgvrrpd::vrrp {
namespace {

std::vector<uint8_t> hex(std::string_view text) {
  std::vector<uint8_t> out;
  std::string digits;
  for (char c : text)
    if (c != ' ') digits += c;
  for (size_t i = 0; i + 1 < digits.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoul(digits.substr(i, 2), nullptr, 16)));
  return out;
}

using fixtures::ip;
using fixtures::v3_ipv4_advert;

const IpAddress kKeepalived4 = ip("198.51.100.11");
const IpAddress kKeepalived6 = ip("fe80::11");
const IpAddress kGroup4 = ip("224.0.0.18");
const IpAddress kGroup6 = ip("ff02::12");
const PacketContext kContext4{kKeepalived4, kGroup4, 255};
const PacketContext kContext6{kKeepalived6, kGroup6, 255};

// keepalived 2.2.7: vrrp_instance version 3, virtual_router_id 51,
// priority 150, advert_int 1, VIPs 198.51.100.100 and .101; sent from
// 198.51.100.11 to 224.0.0.18 (checksum with the IPv4 pseudo-header).
const std::vector<uint8_t> kV3Ipv4 = hex("31 33 96 02 00 64 d8 62 c6 33 64 64 c6 33 64 65");
// The same instance's shutdown advert (priority 0), same capture.
const std::vector<uint8_t> kV3Ipv4Shutdown =
    hex("31 33 00 02 00 64 6e 63 c6 33 64 64 c6 33 64 65");
// kV3Ipv4 with the checksum over the message alone (no pseudo-header):
// 0xe334, computed by a separate Python RFC 1071 sum and confirmed by tshark
// 4.0.17 with vrrp.v3_checksum_as_in_v2:TRUE ("[correct]").
const std::vector<uint8_t> kV3Ipv4Plain =
    hex("31 33 96 02 00 64 e3 34 c6 33 64 64 c6 33 64 65");
// keepalived 2.2.7: version 2, virtual_router_id 52, priority 200,
// advert_int 2, auth_type PASS, auth_pass secret1, VIP 198.51.100.102.
const std::vector<uint8_t> kV2Ipv4 =
    hex("21 34 c8 01 01 02 7d e1 c6 33 64 66 73 65 63 72 65 74 31 00");
// keepalived 2.2.7: version 3, virtual_router_id 53, priority 100,
// advert_int 0.5, VIPs 2001:db8:100::1 and ::2; from fe80::11 to ff02::12.
const std::vector<uint8_t> kV3Ipv6 = hex(
    "31 35 64 02 00 32 0e e2"
    " 20 01 0d b8 01 00 00 00 00 00 00 00 00 00 00 01"
    " 20 01 0d b8 01 00 00 00 00 00 00 00 00 00 00 02");
// The whole IPv4 datagram carrying kV3Ipv4, as tcpdump saw it.
const std::vector<uint8_t> kV3Ipv4Datagram =
    hex("45 c0 00 24 00 01 00 00 ff 70 b0 57 c6 33 64 0b e0 00 00 12"
        " 31 33 96 02 00 64 d8 62 c6 33 64 64 c6 33 64 65");

Advert v2_ipv4_advert() {
  Advert a;
  a.version = 2;
  a.vrid = 52;
  a.priority = 200;
  a.interval = Centiseconds(200);
  a.addresses = {ip("198.51.100.102")};
  a.auth_type = 1;
  a.auth_data = {'s', 'e', 'c', 'r', 'e', 't', '1', 0};
  return a;
}

Advert v3_ipv6_advert() {
  Advert a;
  a.version = 3;
  a.vrid = 53;
  a.priority = 100;
  a.interval = Centiseconds(50);
  a.addresses = {ip("2001:db8:100::1"), ip("2001:db8:100::2")};
  return a;
}

// Rewrites the checksum of a v2 / plain message after a test edits it.
void fix_plain_checksum(std::vector<uint8_t>& message) {
  message[6] = message[7] = 0;
  uint16_t sum = internet_checksum({message});
  message[6] = static_cast<uint8_t>(sum >> 8);
  message[7] = static_cast<uint8_t>(sum);
}

}  // namespace

// --- golden bytes, both ways ---

TEST_CASE("RFC 5798 5.2: v3 IPv4 advert encodes to keepalived's bytes") {
  CHECK(encode(v3_ipv4_advert(), kKeepalived4, kGroup4) == kV3Ipv4);
}

TEST_CASE("RFC 5798 5.2: v3 IPv4 advert from keepalived decodes") {
  Decoded d = decode(kV3Ipv4, kContext4);
  CHECK(d.reject == Reject::none);
  CHECK(d.checksum_mode == ChecksumMode::pseudo_header);
  CHECK(d.advert == v3_ipv4_advert());
}

TEST_CASE("RFC 5798 5.2.4: v3 priority 0 shutdown advert both ways") {
  Advert a = v3_ipv4_advert();
  a.priority = 0;
  CHECK(encode(a, kKeepalived4, kGroup4) == kV3Ipv4Shutdown);
  Decoded d = decode(kV3Ipv4Shutdown, kContext4);
  CHECK(d.reject == Reject::none);
  CHECK(d.advert == a);
}

TEST_CASE("RFC 5798 5.2.8: v3 IPv4 plain checksum (no pseudo-header) both ways") {
  CHECK(encode(v3_ipv4_advert(), kKeepalived4, kGroup4, ChecksumMode::plain) ==
        kV3Ipv4Plain);
  Decoded d = decode(kV3Ipv4Plain, kContext4);
  CHECK(d.reject == Reject::none);
  CHECK(d.checksum_mode == ChecksumMode::plain);
  CHECK(d.advert == v3_ipv4_advert());
}

TEST_CASE("RFC 3768 5.3: v2 IPv4 advert with simple password both ways") {
  CHECK(encode(v2_ipv4_advert(), kKeepalived4, kGroup4) == kV2Ipv4);
  Decoded d = decode(kV2Ipv4, kContext4);
  CHECK(d.reject == Reject::none);
  CHECK(d.advert == v2_ipv4_advert());
}

TEST_CASE("RFC 5798 5.2: v3 IPv6 advert both ways") {
  CHECK(encode(v3_ipv6_advert(), kKeepalived6, kGroup6) == kV3Ipv6);
  Decoded d = decode(kV3Ipv6, kContext6);
  CHECK(d.reject == Reject::none);
  CHECK(d.advert == v3_ipv6_advert());
}

// --- checksum coverage ---

TEST_CASE("RFC 5798 5.2.8: v3 IPv4 checksum includes the pseudo-header") {
  // A different destination changes the pseudo-header sum only.
  PacketContext other = kContext4;
  other.destination = ip("198.51.100.12");
  CHECK(decode(kV3Ipv4, other).reject == Reject::bad_checksum);
  CHECK(encode(v3_ipv4_advert(), kKeepalived4, other.destination) != kV3Ipv4);
}

TEST_CASE("RFC 5798 5.2.8: v3 IPv6 checksum includes the RFC 8200 pseudo-header") {
  PacketContext other = kContext6;
  other.source = ip("fe80::12");
  CHECK(decode(kV3Ipv6, other).reject == Reject::bad_checksum);
  // IPv6 has no plain form: the mode argument is ignored.
  CHECK(encode(v3_ipv6_advert(), kKeepalived6, kGroup6, ChecksumMode::plain) == kV3Ipv6);
}

TEST_CASE("RFC 3768 5.3.8: v2 checksum covers the VRRP message only") {
  PacketContext other{ip("198.51.100.21"), ip("198.51.100.22"), 255};
  CHECK(decode(kV2Ipv4, other).reject == Reject::none);
  CHECK(encode(v2_ipv4_advert(), other.source, other.destination,
               ChecksumMode::pseudo_header) == kV2Ipv4);
}

TEST_CASE("RFC 5798 7.1: bytes past the message are ignored, checksum too") {
  std::vector<uint8_t> padded = kV3Ipv4;
  padded.insert(padded.end(), {0xde, 0xad, 0xbe, 0xef});
  Decoded d = decode(padded, kContext4);
  CHECK(d.reject == Reject::none);
  CHECK(d.advert == v3_ipv4_advert());
}

// --- fields ---

TEST_CASE("RFC 5798 5.2.6: reserved bits are sent as zero and ignored on receipt") {
  std::vector<uint8_t> m = encode(v3_ipv4_advert(), kKeepalived4, kGroup4, ChecksumMode::plain);
  CHECK((m[4] & 0xf0) == 0);
  m[4] |= 0xf0;
  fix_plain_checksum(m);
  Decoded d = decode(m, kContext4);
  CHECK(d.reject == Reject::none);
  CHECK(d.advert.interval == Centiseconds(100));
}

TEST_CASE("RFC 5798 5.2.7: Max Adver Int is 12 bits of centiseconds") {
  Advert a = v3_ipv4_advert();
  a.interval = Centiseconds(4095);
  std::vector<uint8_t> m = encode(a, kKeepalived4, kGroup4);
  CHECK(m[4] == 0x0f);
  CHECK(m[5] == 0xff);
  CHECK(decode(m, kContext4).advert.interval == Centiseconds(4095));
}

TEST_CASE("RFC 3768 5.3.7: v2 Adver Int is whole seconds on the wire") {
  Advert a = v2_ipv4_advert();
  a.interval = Centiseconds(25500);
  std::vector<uint8_t> m = encode(a, kKeepalived4, kGroup4);
  CHECK(m[5] == 255);
  CHECK(decode(m, kContext4).advert.interval == Centiseconds(25500));
}

// --- rejections ---

TEST_CASE("RFC 5798 7.1: too_short when the fixed header is cut") {
  CHECK(decode({}, kContext4).reject == Reject::too_short);
  std::span<const uint8_t> seven(kV3Ipv4.data(), 7);
  CHECK(decode(seven, kContext4).reject == Reject::too_short);
}

TEST_CASE("RFC 5798 7.1: too_short when the addresses are cut") {
  std::span<const uint8_t> m(kV3Ipv4);
  CHECK(decode(m.first(m.size() - 1), kContext4).reject == Reject::too_short);
  CHECK(decode(m.first(kHeaderSize), kContext4).reject == Reject::too_short);
  // A count larger than the packet holds.
  std::vector<uint8_t> big = kV3Ipv4;
  big[3] = 3;
  CHECK(decode(big, kContext4).reject == Reject::too_short);
}

TEST_CASE("RFC 5798 7.1: too_short when IPv6 addresses are read at 16 bytes") {
  // The same bytes as the IPv4 advert hold 2 x 4, not 2 x 16.
  CHECK(decode(kV3Ipv4, kContext6).reject == Reject::too_short);
}

TEST_CASE("RFC 3768 7.1: too_short when the v2 authentication data is cut") {
  std::span<const uint8_t> m(kV2Ipv4);
  CHECK(decode(m.first(m.size() - 1), kContext4).reject == Reject::too_short);
  CHECK(decode(m.first(m.size() - kV2AuthSize), kContext4).reject == Reject::too_short);
}

TEST_CASE("RFC 5798 7.1: bad_version for versions other than 2 and 3") {
  for (uint8_t version : {0, 1, 4, 15}) {
    std::vector<uint8_t> m = kV3Ipv4;
    m[0] = static_cast<uint8_t>(version << 4 | 1);
    CHECK(decode(m, kContext4).reject == Reject::bad_version);
  }
}

TEST_CASE("RFC 3768 1: bad_version for v2 over IPv6") {
  std::vector<uint8_t> m = kV3Ipv6;
  m[0] = 0x21;
  CHECK(decode(m, kContext6).reject == Reject::bad_version);
}

TEST_CASE("RFC 5798 5.2.2: bad_type for anything but ADVERTISEMENT") {
  for (uint8_t type : {0, 2, 15}) {
    std::vector<uint8_t> m = kV3Ipv4;
    m[0] = static_cast<uint8_t>(0x30 | type);
    CHECK(decode(m, kContext4).reject == Reject::bad_type);
  }
}

TEST_CASE("RFC 5798 7.1: bad_checksum on a corrupted byte, fields kept for logs") {
  std::vector<uint8_t> m = kV3Ipv4;
  m[2] = 151;  // priority
  Decoded d = decode(m, kContext4);
  CHECK(d.reject == Reject::bad_checksum);
  CHECK(d.advert.vrid == 51);
  CHECK(d.advert.priority == 151);

  std::vector<uint8_t> v2 = kV2Ipv4;
  v2.back() ^= 1;  // auth data is covered too (RFC 3768 5.3.8)
  CHECK(decode(v2, kContext4).reject == Reject::bad_checksum);

  std::vector<uint8_t> v6 = kV3Ipv6;
  v6[6] ^= 0x80;
  CHECK(decode(v6, kContext6).reject == Reject::bad_checksum);
}

TEST_CASE("reject_name gives distinct snake_case names") {
  CHECK(reject_name(Reject::none) == "none");
  CHECK(reject_name(Reject::too_short) == "too_short");
  CHECK(reject_name(Reject::owner_conflict) == "owner_conflict");
  std::set<std::string_view> names;
  for (int i = 0; i < static_cast<int>(Reject::count_); ++i) {
    std::string_view name = reject_name(static_cast<Reject>(i));
    CHECK(name != "invalid");
    for (char c : name) CHECK(((c >= 'a' && c <= 'z') || c == '_'));
    names.insert(name);
  }
  CHECK(names.size() == static_cast<size_t>(Reject::count_));
  CHECK(reject_name(Reject::count_) == "invalid");
}

// --- IPv4 datagrams ---

TEST_CASE("RFC 791 3.1: parse_ipv4 splits keepalived's datagram") {
  auto d = parse_ipv4(kV3Ipv4Datagram);
  REQUIRE(d.has_value());
  CHECK(d->protocol == kIpProtocol);
  CHECK(d->context.ttl == 255);
  CHECK(d->context.source == kKeepalived4);
  CHECK(d->context.destination == kGroup4);
  CHECK(std::vector<uint8_t>(d->payload.begin(), d->payload.end()) == kV3Ipv4);
  CHECK(decode(d->payload, d->context).advert == v3_ipv4_advert());
}

TEST_CASE("RFC 791 3.1: parse_ipv4 ends the payload at Total Length") {
  std::vector<uint8_t> padded = kV3Ipv4Datagram;
  padded.insert(padded.end(), 10, 0);
  auto d = parse_ipv4(padded);
  REQUIRE(d.has_value());
  CHECK(d->payload.size() == kV3Ipv4.size());
}

TEST_CASE("RFC 791 3.1: parse_ipv4 skips IP options (IHL > 5)") {
  std::vector<uint8_t> m(kV3Ipv4Datagram.begin(), kV3Ipv4Datagram.begin() + 20);
  m[0] = 0x46;
  m[3] = 0x28;                                // total 40 = 24 + 16
  m.insert(m.end(), {0x01, 0x01, 0x01, 0x00});  // NOP NOP NOP EOL
  m.insert(m.end(), kV3Ipv4.begin(), kV3Ipv4.end());
  auto d = parse_ipv4(m);
  REQUIRE(d.has_value());
  CHECK(std::vector<uint8_t>(d->payload.begin(), d->payload.end()) == kV3Ipv4);
}

TEST_CASE("RFC 791 3.1: parse_ipv4 rejects malformed headers") {
  const auto& good = kV3Ipv4Datagram;
  std::span<const uint8_t> all(good);
  CHECK_FALSE(parse_ipv4({}).has_value());
  CHECK_FALSE(parse_ipv4(all.first(19)).has_value());
  auto with = [&](size_t at, uint8_t value) {
    std::vector<uint8_t> m = good;
    m[at] = value;
    return parse_ipv4(m).has_value();
  };
  CHECK_FALSE(with(0, 0x65));  // version 6
  CHECK_FALSE(with(0, 0x44));  // IHL 4
  CHECK_FALSE(with(0, 0x4f));  // IHL 15: 60 bytes, more than the total length
  CHECK_FALSE(with(3, 0x25));  // total length one past the buffer
  CHECK_FALSE(with(3, 0x13));  // total length 19, inside the header
  CHECK(with(3, 0x14));        // total length 20: header only, empty payload
  // Total length larger than what was received (truncated read).
  CHECK_FALSE(parse_ipv4(all.first(all.size() - 1)).has_value());
}

// --- the Internet checksum ---

TEST_CASE("RFC 1071 3: the worked example, whole and split at odd offsets") {
  const std::vector<uint8_t> bytes = hex("00 01 f2 03 f4 f5 f6 f7");
  std::span<const uint8_t> all(bytes);
  // RFC 1071 3: the one's complement sum is 0xddf2.
  CHECK(internet_checksum({all}) == static_cast<uint16_t>(~0xddf2));
  CHECK(internet_checksum({all.first(3), all.subspan(3, 2), all.subspan(5)}) ==
        static_cast<uint16_t>(~0xddf2));
  CHECK(internet_checksum({all.first(1), {}, all.subspan(1, 1), all.subspan(2)}) ==
        static_cast<uint16_t>(~0xddf2));
}

TEST_CASE("RFC 1071 4.1: an odd final byte is padded with zero") {
  const uint8_t one[1] = {0x01};
  CHECK(internet_checksum({one}) == 0xfeff);
  CHECK(internet_checksum({}) == 0xffff);
}

TEST_CASE("RFC 1071 1: end-around carry") {
  const uint8_t bytes[4] = {0xff, 0xff, 0x00, 0x02};  // 0xffff + 0x0002 = 0x0002
  CHECK(internet_checksum({bytes}) == static_cast<uint16_t>(~0x0002));
}

}  // namespace pgvrrpd::vrrp
