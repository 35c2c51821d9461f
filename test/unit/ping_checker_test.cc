// The echo codec on canned bytes, and the ping checker against loopback.
// Failures (no reply, no route) need a network of their own: see
// test/integration/test_checkers.py.
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "checkers/ping_checker_linux.h"
#include "checkers/ping_packet.h"
#include "runtime_skip.h"
#include "vrrpd/loop/event_loop_linux.h"

namespace pgvrrpd::checkers {
namespace {

using std::chrono::milliseconds;

const EchoId kId{0x1234, 7, {1, 2, 3, 4, 5, 6, 7, 8}};

// An IPv4 header (IHL 5) in front of `icmp`; the checker ignores its fields.
std::vector<uint8_t> with_ipv4_header(const std::vector<uint8_t>& icmp) {
  std::vector<uint8_t> packet = {0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0,
                                 127, 0, 0, 1, 127, 0, 0, 1};
  packet.insert(packet.end(), icmp.begin(), icmp.end());
  return packet;
}

// The request turned into its reply, as the peer's kernel does.
std::vector<uint8_t> reply_to(Family family, const EchoId& id) {
  auto packet = build_echo_request(family, id);
  packet[0] = family == Family::ipv4 ? 0 : 129;
  if (family == Family::ipv4) {
    packet[2] = packet[3] = 0;
    uint16_t sum = internet_checksum(packet);
    packet[2] = static_cast<uint8_t>(sum >> 8);
    packet[3] = static_cast<uint8_t>(sum);
  }
  return packet;
}

}  // namespace

TEST_CASE("ping packet: an IPv4 echo request, byte for byte") {
  auto packet = build_echo_request(Family::ipv4, kId);
  // type 8, code 0, checksum, identifier 0x1234, sequence 7, cookie.
  std::vector<uint8_t> want = {8, 0, 0, 0, 0x12, 0x34, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8};
  uint16_t sum = internet_checksum(want);
  want[2] = static_cast<uint8_t>(sum >> 8);
  want[3] = static_cast<uint8_t>(sum);
  CHECK(packet == want);
  CHECK(internet_checksum(packet) == 0);
  // RFC 1071's worked example: 0001 f203 f4f5 f6f7 sums to ddf2.
  std::vector<uint8_t> rfc = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  CHECK(internet_checksum(rfc) == static_cast<uint16_t>(~0xddf2));
}

TEST_CASE("ping packet: an ICMPv6 echo request leaves the checksum to the kernel") {
  auto packet = build_echo_request(Family::ipv6, kId);
  CHECK(packet == std::vector<uint8_t>{128, 0, 0, 0, 0x12, 0x34, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8});
}

TEST_CASE("ping packet: only our reply matches") {
  auto v4 = with_ipv4_header(reply_to(Family::ipv4, kId));
  CHECK(is_echo_reply(Family::ipv4, v4, kId));
  auto v6 = reply_to(Family::ipv6, kId);
  CHECK(is_echo_reply(Family::ipv6, v6, kId));

  EchoId other_seq = kId, other_identifier = kId, other_cookie = kId;
  other_seq.sequence = 6;
  other_identifier.identifier = 0x4321;
  other_cookie.cookie[7] = 9;
  for (const EchoId* id : {&other_seq, &other_identifier, &other_cookie}) {
    CHECK_FALSE(is_echo_reply(Family::ipv4, v4, *id));
    CHECK_FALSE(is_echo_reply(Family::ipv6, v6, *id));
  }
  // Our own request looping back is not a reply.
  CHECK_FALSE(is_echo_reply(Family::ipv4, with_ipv4_header(build_echo_request(Family::ipv4, kId)), kId));
  CHECK_FALSE(is_echo_reply(Family::ipv6, build_echo_request(Family::ipv6, kId), kId));
  // A corrupted IPv4 reply fails its checksum.
  auto bad = v4;
  bad.back() ^= 0xff;
  CHECK_FALSE(is_echo_reply(Family::ipv4, bad, kId));
  // Truncated, longer, or without a sane IP header.
  CHECK_FALSE(is_echo_reply(Family::ipv4, std::span(v4).first(v4.size() - 1), kId));
  auto longer = v6;
  longer.push_back(0);
  CHECK_FALSE(is_echo_reply(Family::ipv6, longer, kId));
  CHECK_FALSE(is_echo_reply(Family::ipv4, {}, kId));
  auto short_ihl = v4;
  short_ihl[0] = 0x44;
  CHECK_FALSE(is_echo_reply(Family::ipv4, short_ihl, kId));
  auto v6_as_v4 = v4;
  v6_as_v4[0] = 0x65;
  CHECK_FALSE(is_echo_reply(Family::ipv4, v6_as_v4, kId));
  // A header with options (IHL 6) is skipped properly.
  auto options = reply_to(Family::ipv4, kId);
  std::vector<uint8_t> v4_options = {0x46, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 127, 0, 0, 1,
                                     127, 0, 0, 1, 1, 1, 1, 0};
  v4_options.insert(v4_options.end(), options.begin(), options.end());
  CHECK(is_echo_reply(Family::ipv4, v4_options, kId));
}

namespace {

struct Seen {
  bool passing;
  std::string reason;
};

// Pings `target` from a fresh checker until `want_replies` replies or 3 s.
std::vector<Seen> ping_loopback(const char* target, uint64_t want_replies) {
  EventLoop loop;
  REQUIRE(loop.open());
  PingChecker checker(loop, "lo", {*IpAddress::parse(target), milliseconds(20),
                                   milliseconds(1000), 1, 3});
  std::vector<Seen> seen;
  checker.set_listener([&](bool passing, const std::string& reason) {
    seen.push_back({passing, reason});
  });
  checker.start();
  TimePoint deadline = loop.now() + std::chrono::seconds(3);
  Timer* self = nullptr;
  Timer poll(loop, [&] {
    if (checker.replies() >= want_replies || loop.now() >= deadline) {
      loop.stop();
      return;
    }
    self->arm(loop.now() + milliseconds(5));
  });
  self = &poll;
  poll.arm(loop.now());
  REQUIRE(loop.run());
  CHECK(checker.replies() >= want_replies);
  CHECK(checker.probes() >= checker.replies());
  return seen;
}

}  // namespace

// Raw ICMP sockets need CAP_NET_RAW; the suite runs as root, and elsewhere
// these report themselves skipped (runtime_skip.h).
TEST_CASE("ping checker: 127.0.0.1 answers") {
  SKIP_UNLESS_ROOT("a raw ICMP socket");
  auto seen = ping_loopback("127.0.0.1", 5);
  REQUIRE(seen.size() == 1);  // one pass, then every reply agrees
  CHECK(seen[0].passing);
  CHECK(seen[0].reason.find("reply from 127.0.0.1 in ") == 0);
}

TEST_CASE("ping checker: ::1 answers") {
  SKIP_UNLESS_ROOT("a raw ICMPv6 socket");
  auto seen = ping_loopback("::1", 5);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].passing);
  CHECK(seen[0].reason.find("reply from ::1 in ") == 0);
}

TEST_CASE("ping checker: two checkers on one host keep their replies apart") {
  SKIP_UNLESS_ROOT("raw ICMP sockets");
  EventLoop loop;
  REQUIRE(loop.open());
  PingChecker a(loop, "a", {*IpAddress::parse("127.0.0.1"), milliseconds(10), milliseconds(1000), 1, 1});
  PingChecker b(loop, "b", {*IpAddress::parse("127.0.0.1"), milliseconds(10), milliseconds(1000), 1, 1});
  int failures = 0;
  for (PingChecker* c : {&a, &b})
    c->set_listener([&](bool passing, const std::string&) { failures += passing ? 0 : 1; });
  a.start();
  b.start();
  // Until both have 10 replies; 10 s is a safety net, not a bound.
  TimePoint deadline = loop.now() + std::chrono::seconds(10);
  Timer* self = nullptr;
  Timer poll(loop, [&] {
    if ((a.replies() >= 10 && b.replies() >= 10) || loop.now() >= deadline) {
      loop.stop();
      return;
    }
    self->arm(loop.now() + milliseconds(5));
  });
  self = &poll;
  poll.arm(loop.now());
  REQUIRE(loop.run());
  // Each sees exactly its own replies: one per probe, none twice.
  CHECK(a.replies() >= 10);
  CHECK(b.replies() >= 10);
  CHECK(a.replies() <= a.probes());
  CHECK(b.replies() <= b.probes());
  CHECK(failures == 0);
}

}  // namespace pgvrrpd::checkers
