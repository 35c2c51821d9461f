// parse_link_messages() on canned rtnetlink messages, and the link checker
// asking the kernel about lo and a missing interface (no traffic, no
// namespace). Real link down/up: test/integration/test_checkers.py.
#include <doctest/doctest.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "checkers/link_checker_linux.h"
#include "vrrpd/loop/event_loop_linux.h"

namespace pgvrrpd::checkers {
namespace {

void append(std::vector<uint8_t>& out, const void* data, size_t size) {
  auto* bytes = static_cast<const uint8_t*>(data);
  out.insert(out.end(), bytes, bytes + size);
  out.resize(NLMSG_ALIGN(out.size()));
}

// One RTM_NEWLINK / RTM_DELLINK as the kernel sends it: header, ifinfomsg,
// then IFLA_MTU and IFLA_IFNAME attributes.
std::vector<uint8_t> link_message(uint16_t type, const std::string& name, unsigned flags) {
  std::vector<uint8_t> body;
  ifinfomsg info{};
  info.ifi_family = AF_UNSPEC;
  info.ifi_index = 7;
  info.ifi_flags = flags;
  append(body, &info, sizeof info);
  rtattr mtu{static_cast<unsigned short>(RTA_LENGTH(4)), IFLA_MTU};
  uint32_t mtu_value = 1500;
  append(body, &mtu, sizeof mtu);
  append(body, &mtu_value, 4);
  rtattr ifname{static_cast<unsigned short>(RTA_LENGTH(name.size() + 1)), IFLA_IFNAME};
  size_t at = body.size();
  append(body, &ifname, sizeof ifname);
  body.resize(at + sizeof ifname);
  append(body, name.c_str(), name.size() + 1);
  nlmsghdr header{};
  header.nlmsg_len = static_cast<uint32_t>(NLMSG_HDRLEN + body.size());
  header.nlmsg_type = type;
  std::vector<uint8_t> out;
  append(out, &header, sizeof header);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

std::vector<uint8_t> error_message(int error) {
  nlmsghdr header{};
  header.nlmsg_len = NLMSG_LENGTH(sizeof(nlmsgerr));
  header.nlmsg_type = NLMSG_ERROR;
  nlmsgerr body{};
  body.error = -error;
  std::vector<uint8_t> out;
  append(out, &header, sizeof header);
  append(out, &body, sizeof body);
  return out;
}

std::vector<uint8_t> concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace

TEST_CASE("link messages: up needs IFF_UP and IFF_RUNNING") {
  auto events = parse_link_messages(concat({
      link_message(RTM_NEWLINK, "eth0", IFF_UP | IFF_RUNNING | IFF_BROADCAST),
      link_message(RTM_NEWLINK, "eth0", IFF_UP),          // no carrier
      link_message(RTM_NEWLINK, "eth0", IFF_RUNNING),     // admin down
      link_message(RTM_NEWLINK, "eth1", IFF_UP | IFF_RUNNING),
      link_message(RTM_DELLINK, "eth0", 0),
  }));
  REQUIRE(events.size() == 5);
  CHECK(events[0].kind == LinkEvent::Kind::state);
  CHECK(events[0].name == "eth0");
  CHECK(events[0].up);
  CHECK_FALSE(events[1].up);
  CHECK_FALSE(events[2].up);
  CHECK(events[3].name == "eth1");
  CHECK(events[3].up);
  CHECK(events[4].kind == LinkEvent::Kind::deleted);
  CHECK(events[4].name == "eth0");
}

TEST_CASE("link messages: errors are reported, acks and other types skipped") {
  nlmsghdr done{};
  done.nlmsg_len = NLMSG_LENGTH(4);
  done.nlmsg_type = NLMSG_DONE;
  std::vector<uint8_t> done_message;
  append(done_message, &done, sizeof done);
  done_message.resize(done.nlmsg_len);
  auto events = parse_link_messages(concat({error_message(ENODEV), error_message(0),
                                            done_message,
                                            link_message(RTM_NEWLINK, "lo", IFF_UP | IFF_RUNNING)}));
  REQUIRE(events.size() == 2);
  CHECK(events[0].kind == LinkEvent::Kind::error);
  CHECK(events[0].error == ENODEV);
  CHECK(events[1].name == "lo");
}

TEST_CASE("link messages: an error field that is no negative errno is skipped") {
  // Found by fuzz_parse_link_messages: a positive value came out as a
  // negative errno, and INT_MIN would overflow when negated.
  // error_message(e) carries -e, as the kernel would.
  auto events = parse_link_messages(concat({error_message(-EPERM), error_message(100000),
                                            error_message(ENODEV)}));
  REQUIRE(events.size() == 1);
  CHECK(events[0].error == ENODEV);
  std::vector<uint8_t> int_min = error_message(0);
  const int field = std::numeric_limits<int>::min();
  std::memcpy(int_min.data() + sizeof(nlmsghdr), &field, sizeof field);
  CHECK(parse_link_messages(int_min).empty());
}

TEST_CASE("link messages: truncated and malformed input ends the walk safely") {
  auto good = link_message(RTM_NEWLINK, "eth0", IFF_UP | IFF_RUNNING);
  // Cut anywhere: never a read past the end, at most the whole messages.
  for (size_t cut = 0; cut < good.size(); ++cut) {
    CAPTURE(cut);
    auto events = parse_link_messages(std::span(good).first(cut));
    CHECK(events.empty());
  }
  // A header claiming more than there is.
  auto lying = good;
  lying[0] = 0xff;
  CHECK(parse_link_messages(lying).empty());
  // An attribute longer than its message: the name is not read.
  auto bad_attribute = concat({good, good});
  size_t name_attribute = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifinfomsg)) + RTA_SPACE(4);
  bad_attribute[name_attribute] = 0xf0;
  auto events = parse_link_messages(bad_attribute);
  REQUIRE(events.size() == 2);
  CHECK(events[0].name.empty());
  CHECK(events[1].name == "eth0");
  // A name without its NUL stops at the attribute's end.
  auto unterminated = link_message(RTM_NEWLINK, "abc", IFF_UP);
  unterminated[name_attribute + RTA_LENGTH(0) + 3] = 'd';
  events = parse_link_messages(unterminated);
  REQUIRE(events.size() == 1);
  CHECK(events[0].name == "abcd");
}

TEST_CASE("link messages: a last message without its padding ends the walk") {
  // nlmsg_len 49: the name attribute's 9 bytes, unpadded, end the datagram.
  // Stepping by NLMSG_ALIGN(49) = 52 went past the end, and the unsigned
  // "bytes left" wrapped around (ASan: a heap read past the buffer).
  auto good = link_message(RTM_NEWLINK, "eth0", IFF_UP | IFF_RUNNING);
  size_t unpadded = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifinfomsg)) + RTA_SPACE(4) + RTA_LENGTH(5);
  REQUIRE(unpadded % 4 != 0);
  std::vector<uint8_t> datagram(good.begin(), good.begin() + static_cast<long>(unpadded));
  uint32_t length = static_cast<uint32_t>(unpadded);
  std::memcpy(datagram.data(), &length, sizeof length);
  datagram.shrink_to_fit();
  auto events = parse_link_messages(datagram);
  REQUIRE(events.size() == 1);
  CHECK(events[0].name == "eth0");
}

namespace {

std::vector<std::pair<bool, std::string>> link_verdicts(const std::string& interface) {
  EventLoop loop;
  REQUIRE(loop.open());
  LinkChecker checker(loop, interface);
  std::vector<std::pair<bool, std::string>> seen;
  checker.set_listener([&](bool passing, const std::string& reason) {
    seen.emplace_back(passing, reason);
    loop.stop();
  });
  REQUIRE(checker.open());
  Timer limit(loop, [&] { loop.stop(); });
  limit.arm(loop.now() + std::chrono::seconds(2));
  REQUIRE(loop.run());
  return seen;
}

}  // namespace

TEST_CASE("link checker: lo is up") {
  auto seen = link_verdicts("lo");
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].first);
  CHECK(seen[0].second == "lo link up");
}

TEST_CASE("link checker: a missing interface fails with the kernel's reason") {
  auto seen = link_verdicts("pgvrrpd-none0");
  REQUIRE(seen.size() == 1);
  CHECK_FALSE(seen[0].first);
  CHECK(seen[0].second == "pgvrrpd-none0: No such device");
}

}  // namespace pgvrrpd::checkers
