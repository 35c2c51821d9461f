// The configuration checks of RFC 5798 7.1 / RFC 3768 7.1, on adverts that
// already passed the codec.
#include "vrrpd/core/receive_filter.h"

#include <doctest/doctest.h>

#include "advert_fixtures.h"

namespace pgvrrpd::vrrp {
namespace {

using fixtures::ip;

const IpAddress kLocal = ip("198.51.100.12");
const IpAddress kPeer = ip("198.51.100.11");
const PacketContext kMulticast{kPeer, ip("224.0.0.18"), 255};

RouterParams v3_router() {
  RouterParams r;
  r.name = "db";
  r.vrid = 51;
  r.version = 3;
  r.family = Family::ipv4;
  r.priority = 100;
  r.advert_interval = Centiseconds(100);
  r.virtual_ips = {*IpPrefix::parse("198.51.100.100"), *IpPrefix::parse("198.51.100.101")};
  return r;
}

Advert v3_advert() { return fixtures::v3_ipv4_advert(); }

RouterParams v2_router() {
  RouterParams r = v3_router();
  r.version = 2;
  r.auth_type = 1;
  r.auth_data = {'s', 'e', 'c', 'r', 'e', 't', '1', 0};
  return r;
}

Advert v2_advert() {
  Advert a = v3_advert();
  a.version = 2;
  a.auth_type = 1;
  a.auth_data = {'s', 'e', 'c', 'r', 'e', 't', '1', 0};
  return a;
}

RouterParams unicast_router() {
  RouterParams r = v3_router();
  r.unicast_peers = {ip("198.51.100.27"), kPeer};
  return r;
}

}  // namespace

TEST_CASE("RFC 5798 7.1: a well-formed advert from the link passes") {
  CHECK(filter_advert(v3_advert(), kMulticast, v3_router(), kLocal) == Reject::none);
  CHECK(filter_advert(v2_advert(), kMulticast, v2_router(), kLocal) == Reject::none);
}

TEST_CASE("RFC 5798 1: family_mismatch for an IPv6 advert at an IPv4 router") {
  PacketContext c{ip("fe80::11"), ip("ff02::12"), 255};
  Advert a = v3_advert();
  a.addresses = {ip("2001:db8:100::1"), ip("2001:db8:100::2")};
  CHECK(filter_advert(a, c, v3_router(), kLocal) == Reject::family_mismatch);
}

TEST_CASE("RFC 5798 7.1: bad_version when the advert's version is not ours") {
  CHECK(filter_advert(v2_advert(), kMulticast, v3_router(), kLocal) == Reject::bad_version);
  CHECK(filter_advert(v3_advert(), kMulticast, v2_router(), kLocal) == Reject::bad_version);
}

TEST_CASE("own_packet for our own advert looped back by multicast") {
  CHECK(filter_advert(v3_advert(), kMulticast, v3_router(), kPeer) == Reject::own_packet);
}

TEST_CASE("RFC 5798 7.1: bad_ttl when TTL is not 255 on a multicast router") {
  PacketContext c = kMulticast;
  c.ttl = 254;
  CHECK(filter_advert(v3_advert(), c, v3_router(), kLocal) == Reject::bad_ttl);
  c.ttl = 1;
  CHECK(filter_advert(v3_advert(), c, v3_router(), kLocal) == Reject::bad_ttl);
}

TEST_CASE("RFC 5798 7.1: hop limit 255 checked for IPv6 too") {
  RouterParams r = v3_router();
  r.family = Family::ipv6;
  r.virtual_ips = {*IpPrefix::parse("2001:db8:100::1")};
  Advert a = v3_advert();
  a.addresses = {ip("2001:db8:100::1")};
  PacketContext c{ip("fe80::11"), ip("ff02::12"), 255};
  CHECK(filter_advert(a, c, r, ip("fe80::12")) == Reject::none);
  c.ttl = 64;
  CHECK(filter_advert(a, c, r, ip("fe80::12")) == Reject::bad_ttl);
}

TEST_CASE("RFC 5798 5.1.1.2: a multicast router takes adverts sent to the group only") {
  PacketContext c = kMulticast;
  c.destination = kLocal;
  CHECK(filter_advert(v3_advert(), c, v3_router(), kLocal) ==
        Reject::unexpected_destination);
}

TEST_CASE("unicast: unexpected_source when the sender is not a configured peer") {
  PacketContext c{ip("198.51.100.99"), kLocal, 255};
  CHECK(filter_advert(v3_advert(), c, unicast_router(), kLocal) ==
        Reject::unexpected_source);
}

TEST_CASE("unicast: a configured peer passes whatever the destination, with TTL 255") {
  PacketContext c{kPeer, kLocal, 255};
  CHECK(filter_advert(v3_advert(), c, unicast_router(), kLocal) == Reject::none);
}

TEST_CASE("unicast: bad_ttl below 255 unless unicast_ttl_check is off (routed peers)") {
  PacketContext c{kPeer, kLocal, 62};  // routed peer, two hops away
  CHECK(filter_advert(v3_advert(), c, unicast_router(), kLocal) == Reject::bad_ttl);
  RouterParams routed = unicast_router();
  routed.unicast_ttl_check = false;
  CHECK(filter_advert(v3_advert(), c, routed, kLocal) == Reject::none);
}

TEST_CASE("peer: a multicast router with peers obeys only them") {
  RouterParams r = v3_router();
  r.peers = {kPeer};
  CHECK(filter_advert(v3_advert(), kMulticast, r, kLocal) == Reject::none);
  PacketContext stranger{ip("198.51.100.99"), kMulticast.destination, 255};
  CHECK(filter_advert(v3_advert(), stranger, r, kLocal) == Reject::unexpected_source);
  // Without peers (accept_any_source), any sender on the link.
  CHECK(filter_advert(v3_advert(), stranger, v3_router(), kLocal) == Reject::none);
}

TEST_CASE("peer: a unicast router also obeys its peer = entries") {
  RouterParams r = unicast_router();
  r.peers = {ip("198.51.100.31")};
  PacketContext c{ip("198.51.100.31"), kLocal, 255};
  CHECK(filter_advert(v3_advert(), c, r, kLocal) == Reject::none);
}

TEST_CASE("RFC 5798 7.1: owner_conflict when we are the address owner") {
  RouterParams r = v3_router();
  r.priority = kOwnerPriority;
  CHECK(filter_advert(v3_advert(), kMulticast, r, kLocal) == Reject::owner_conflict);
}

TEST_CASE("RFC 3768 7.1: owner_conflict for v2 too") {
  RouterParams r = v2_router();
  r.priority = kOwnerPriority;
  CHECK(filter_advert(v2_advert(), kMulticast, r, kLocal) == Reject::owner_conflict);
}

TEST_CASE("RFC 5798 7.1: address_count_mismatch when the VIP count differs") {
  Advert a = v3_advert();
  a.addresses.pop_back();
  CHECK(filter_advert(a, kMulticast, v3_router(), kLocal) ==
        Reject::address_count_mismatch);
  a.addresses = {ip("198.51.100.100"), ip("198.51.100.101"), ip("198.51.100.102")};
  CHECK(filter_advert(a, kMulticast, v3_router(), kLocal) ==
        Reject::address_count_mismatch);
}

TEST_CASE("RFC 3768 7.1: address_mismatch when as many but other addresses are advertised") {
  Advert a = v3_advert();
  a.addresses.back() = ip("198.51.100.199");
  CHECK(filter_advert(a, kMulticast, v3_router(), kLocal) == Reject::address_mismatch);
  Advert v2 = v2_advert();
  v2.addresses.front() = ip("198.51.100.199");
  CHECK(filter_advert(v2, kMulticast, v2_router(), kLocal) == Reject::address_mismatch);
  // The same addresses in another order are the same list.
  Advert reordered = v3_advert();
  std::swap(reordered.addresses.front(), reordered.addresses.back());
  CHECK(filter_advert(reordered, kMulticast, v3_router(), kLocal) == Reject::none);
}

TEST_CASE("RFC 3768 7.1: a count mismatch from the address owner is processed") {
  Advert a = v2_advert();
  a.priority = kOwnerPriority;
  a.addresses.pop_back();
  CHECK(filter_advert(a, kMulticast, v2_router(), kLocal) == Reject::none);
}

TEST_CASE("RFC 3768 7.1: a priority 0 advert with a count mismatch is dropped") {
  Advert a = v3_advert();
  a.priority = 0;
  a.addresses.pop_back();
  CHECK(filter_advert(a, kMulticast, v3_router(), kLocal) ==
        Reject::address_count_mismatch);
}

TEST_CASE("RFC 3768 7.1: interval_mismatch when a v2 Adver Int differs") {
  Advert a = v2_advert();
  a.interval = Centiseconds(200);
  CHECK(filter_advert(a, kMulticast, v2_router(), kLocal) == Reject::interval_mismatch);
}

TEST_CASE("RFC 5798 6.4.2: a v3 Max Adver Int that differs is accepted (learned)") {
  Advert a = v3_advert();
  a.interval = Centiseconds(35);
  CHECK(filter_advert(a, kMulticast, v3_router(), kLocal) == Reject::none);
}

TEST_CASE("RFC 3768 7.1: auth_mismatch when the Auth Type differs") {
  Advert a = v2_advert();
  a.auth_type = 0;
  CHECK(filter_advert(a, kMulticast, v2_router(), kLocal) == Reject::auth_mismatch);
}

TEST_CASE("RFC 2338 5.3.6.2 / RFC 3768 7.1: auth_mismatch when the password differs") {
  Advert a = v2_advert();
  a.auth_data[7] = 'x';
  CHECK(filter_advert(a, kMulticast, v2_router(), kLocal) == Reject::auth_mismatch);
}

TEST_CASE("RFC 3768 5.3.10: with Auth Type 0 the authentication data is ignored") {
  RouterParams r = v2_router();
  r.auth_type = 0;
  r.auth_data = {};
  Advert a = v2_advert();
  a.auth_type = 0;
  a.auth_data = {1, 2, 3, 4, 5, 6, 7, 8};
  CHECK(filter_advert(a, kMulticast, r, kLocal) == Reject::none);
}

TEST_CASE("RFC 5798 5.2: v3 has no authentication; stray v2 auth fields are ignored") {
  RouterParams r = v3_router();
  r.auth_type = 1;
  r.auth_data = {'x'};
  CHECK(filter_advert(v3_advert(), kMulticast, r, kLocal) == Reject::none);
}

}  // namespace pgvrrpd::vrrp

namespace pgvrrpd::vrrp {
namespace {

// classify() is the whole receive path: codec, VRID lookup, filter.
struct ClassifyFixture {
  RouterParams router = [] {
    RouterParams r;
    r.vrid = 51;
    r.virtual_ips = {IpPrefix::parse("198.51.100.100").value()};
    return r;
  }();
  IpAddress local = IpAddress::parse("198.51.100.12").value();
  IpAddress peer = IpAddress::parse("198.51.100.11").value();
  IpAddress group = vrrp_multicast_group(Family::ipv4);
  RoutersByVrid routers{};

  ClassifyFixture() { routers[51] = {&router, local}; }

  std::vector<uint8_t> advert_bytes(uint8_t vrid) const {
    Advert a;
    a.vrid = vrid;
    a.priority = 150;
    a.addresses = {router.virtual_ips[0].address};
    return encode(a, peer, group);
  }
};

}  // namespace

TEST_CASE_FIXTURE(ClassifyFixture, "RFC 5798 7.1: unknown_vrid when no router has the VRID") {
  auto bytes = advert_bytes(52);
  CHECK(classify(bytes, {peer, group, 255}, routers).reject == Reject::unknown_vrid);
}

TEST_CASE_FIXTURE(ClassifyFixture, "RFC 5798 7.1: classify passes a good advert to its router") {
  auto bytes = advert_bytes(51);
  auto c = classify(bytes, {peer, group, 255}, routers);
  CHECK(c.reject == Reject::none);
  CHECK(c.advert.vrid == 51);
  CHECK(c.advert.priority == 150);
}

TEST_CASE_FIXTURE(ClassifyFixture, "RFC 5798 7.1: classify applies the codec before the lookup") {
  auto bytes = advert_bytes(52);
  bytes[7] ^= 0xff;  // checksum: a bad packet for an unknown VRID is a bad packet
  CHECK(classify(bytes, {peer, group, 255}, routers).reject == Reject::bad_checksum);
}

TEST_CASE_FIXTURE(ClassifyFixture, "RFC 5798 7.1: classify applies the filter after the lookup") {
  auto bytes = advert_bytes(51);
  CHECK(classify(bytes, {peer, group, 64}, routers).reject == Reject::bad_ttl);
}

}  // namespace pgvrrpd::vrrp
