#include "vrrpd/edge/announce_linux.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if_arp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

namespace pgvrrpd {
namespace {

// RFC 826 / RFC 5227 3: Ethernet/IPv4 ARP body, 28 bytes.
constexpr size_t kArpLength = sizeof(arphdr) + 2 * (6 + 4);

// RFC 4861 4.4: 24-byte NA header, then the Target Link-Layer Address option
// (4.6.1): type 2, length 1 (in units of 8 octets), 6-byte MAC.
constexpr size_t kNaLength = sizeof(nd_neighbor_advert) + 8;

// RFC 4861 7.1.2: receivers drop NAs whose hop limit is not 255, which
// proves the sender is on-link.
constexpr int kNdHopLimit = 255;

Status setsockopt_int(int fd, int level, int option, int value, const char* name) {
  if (setsockopt(fd, level, option, &value, sizeof value) < 0)
    return Status::from_errno(name);
  return Status::success();
}

}  // namespace

LinuxAnnouncer::LinuxAnnouncer(LinuxAnnouncer&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      ifindex_(other.ifindex_),
      mac_(other.mac_),
      family_(other.family_) {}

LinuxAnnouncer& LinuxAnnouncer::operator=(LinuxAnnouncer&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    ifindex_ = other.ifindex_;
    mac_ = other.mac_;
    family_ = other.family_;
  }
  return *this;
}

LinuxAnnouncer::~LinuxAnnouncer() { close(); }

void LinuxAnnouncer::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status LinuxAnnouncer::open(int ifindex, MacAddress mac, Family family) {
  close();
  ifindex_ = ifindex;
  mac_ = mac;
  family_ = family;
  auto context = [&](std::string_view what) {
    return fmt::format("{} announcer on interface #{}: {}", family_name(family), ifindex,
                       what);
  };

  if (family == Family::ipv4) {
    // Protocol 0: the socket sends ARP but subscribes to no ethertype, so
    // the kernel never queues the link's ARP traffic on it for nobody to read.
    int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Status::from_errno(context("socket(AF_PACKET)"));
    fd_ = fd;
    sockaddr_ll local{};
    local.sll_family = AF_PACKET;
    local.sll_protocol = 0;
    local.sll_ifindex = ifindex;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) {
      Status status = Status::from_errno(context("bind"));
      close();
      return status;
    }
    return Status::success();
  }

  int fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
  if (fd < 0) return Status::from_errno(context("socket(ICMPv6)"));
  fd_ = fd;
  auto fail = [&](Status status) {
    close();
    return status.with_context(context("setup"));
  };

  // A raw ICMPv6 socket receives a copy of every ICMPv6 message; block all
  // types (RFC 3542 3.2) since this one only sends.
  icmp6_filter filter;
  ICMP6_FILTER_SETBLOCKALL(&filter);
  if (setsockopt(fd_, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter) < 0)
    return fail(Status::from_errno("ICMP6_FILTER"));
  // By index rather than SO_BINDTODEVICE's name: we already hold the index,
  // and a rename cannot race with it.
  if (Status s = setsockopt_int(fd_, SOL_SOCKET, SO_BINDTOIFINDEX, ifindex,
                                "SO_BINDTOIFINDEX");
      !s)
    return fail(s);
  if (Status s = setsockopt_int(fd_, IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex,
                                "IPV6_MULTICAST_IF");
      !s)
    return fail(s);
  if (Status s = setsockopt_int(fd_, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, kNdHopLimit,
                                "IPV6_MULTICAST_HOPS");
      !s)
    return fail(s);
  // Our own NA looped back would only reach our own (filtered) sockets.
  if (Status s =
          setsockopt_int(fd_, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0, "IPV6_MULTICAST_LOOP");
      !s)
    return fail(s);
  // The kernel fills in the ICMPv6 checksum on raw ICMPv6 sockets without
  // being asked (RFC 3542 3.1), pseudo-header included.
  return Status::success();
}

Status LinuxAnnouncer::announce(const IpAddress& vip,
                                const IpAddress& source_link_local_for_v6) {
  if (fd_ < 0) return Status::error("announcer is not open");
  if (vip.family() != family_)
    return Status::error(fmt::format("cannot announce {} on the {} announcer",
                                     vip.to_string(), family_name(family_)));
  if (family_ == Family::ipv4) return announce_v4(vip);
  return announce_v6(vip, source_link_local_for_v6);
}

Status LinuxAnnouncer::announce_v4(const IpAddress& vip) {
  std::array<uint8_t, kArpLength> frame{};
  arphdr header{};
  header.ar_hrd = htons(ARPHRD_ETHER);
  header.ar_pro = htons(ETH_P_IP);
  header.ar_hln = 6;
  header.ar_pln = 4;
  // A request rather than a reply: RFC 5227 3 prefers requests for
  // announcements, and RFC 5798 6.4.1 asks for a "gratuitous ARP request".
  header.ar_op = htons(ARPOP_REQUEST);
  auto out = frame.begin();
  out = std::copy_n(reinterpret_cast<const uint8_t*>(&header), sizeof header, out);
  out = std::copy(mac_.begin(), mac_.end(), out);                  // sender MAC
  out = std::copy(vip.bytes().begin(), vip.bytes().end(), out);    // sender IP
  out += 6;  // target MAC: zero, "ignored" (RFC 5227 2.1.1)
  std::copy(vip.bytes().begin(), vip.bytes().end(), out);          // target IP

  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_ARP);
  to.sll_ifindex = ifindex_;
  to.sll_halen = 6;
  std::fill_n(to.sll_addr, 6, 0xff);  // broadcast
  ssize_t sent = sendto(fd_, frame.data(), frame.size(), 0,
                        reinterpret_cast<const sockaddr*>(&to), sizeof to);
  if (sent < 0)
    return Status::from_errno(
        fmt::format("gratuitous ARP for {} on interface #{}", vip.to_string(), ifindex_));
  return Status::success();
}

Status LinuxAnnouncer::announce_v6(const IpAddress& vip, const IpAddress& source) {
  auto context = [&] {
    return fmt::format("neighbor advertisement for {} on interface #{}", vip.to_string(),
                       ifindex_);
  };
  if (source.family() != Family::ipv6 || !source.is_link_local())
    return Status::error(
        fmt::format("{}: source {} is not an IPv6 link-local address", context(),
                    source.to_string()));

  std::array<uint8_t, kNaLength> message{};
  nd_neighbor_advert na{};
  na.nd_na_type = ND_NEIGHBOR_ADVERT;
  na.nd_na_code = 0;
  na.nd_na_cksum = 0;  // filled in by the kernel
  // RFC 4861 7.2.6: Solicited MUST be clear in an unsolicited NA; Override
  // set so receivers replace the cached (old Master's) MAC. Router clear,
  // unlike RFC 5798 6.4.2's router case: the VIP is a database service
  // address, and R=1 would put it in hosts' default router lists.
  na.nd_na_flags_reserved = ND_NA_FLAG_OVERRIDE;
  std::memcpy(&na.nd_na_target, vip.bytes().data(), 16);
  auto out = std::copy_n(reinterpret_cast<const uint8_t*>(&na), sizeof na, message.begin());
  *out++ = ND_OPT_TARGET_LINKADDR;
  *out++ = 1;  // option length in units of 8 octets
  std::copy(mac_.begin(), mac_.end(), out);

  sockaddr_in6 to{};
  to.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "ff02::1", &to.sin6_addr);  // all-nodes (RFC 4291 2.7.1)
  to.sin6_scope_id = static_cast<uint32_t>(ifindex_);

  // The source address rides in IPV6_PKTINFO (RFC 3542 6.1) rather than a
  // bind(), so one socket serves whatever link-local the interface has now.
  alignas(cmsghdr) std::array<uint8_t, CMSG_SPACE(sizeof(in6_pktinfo))> control{};
  iovec iov{message.data(), message.size()};
  msghdr msg{};
  msg.msg_name = &to;
  msg.msg_namelen = sizeof to;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = IPPROTO_IPV6;
  cmsg->cmsg_type = IPV6_PKTINFO;
  cmsg->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
  in6_pktinfo info{};
  std::memcpy(&info.ipi6_addr, source.bytes().data(), 16);
  info.ipi6_ifindex = static_cast<unsigned>(ifindex_);
  std::memcpy(CMSG_DATA(cmsg), &info, sizeof info);

  if (sendmsg(fd_, &msg, 0) < 0) return Status::from_errno(context());
  return Status::success();
}

}  // namespace pgvrrpd
