#include "vrrpd/edge/vrrp_socket_linux.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pgvrrpd {
namespace {

// DSCP CS6 / "internetwork control", the precedence keepalived and FRR use,
// so adverts survive congested queues ahead of bulk traffic.
constexpr int kTrafficClass = 0xc0;

Status set_int(int fd, int level, int name, int value, const char* what) {
  if (setsockopt(fd, level, name, &value, sizeof value) < 0) return Status::from_errno(what);
  return Status::success();
}

}  // namespace

LinuxVrrpSocket::~LinuxVrrpSocket() {
  if (fd_ >= 0) close(fd_);
}

Status LinuxVrrpSocket::open(const std::string& interface, int ifindex, Family family,
                             bool join_multicast) {
  family_ = family;
  ifindex_ = ifindex;
  fd_ = socket(family == Family::ipv4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
               vrrp::kIpProtocol);
  if (fd_ < 0) return Status::from_errno("socket(IPPROTO_VRRP)");
  // Only this interface's packets: routers are per interface (RFC 5798 7.1:
  // the VRID must be configured on the receiving interface).
  if (setsockopt(fd_, SOL_SOCKET, SO_BINDTODEVICE, interface.c_str(), interface.size()) < 0)
    return Status::from_errno(fmt::format("SO_BINDTODEVICE {}", interface));
  auto status = family == Family::ipv4 ? open_ipv4(join_multicast) : open_ipv6(join_multicast);
  return status.with_context(fmt::format("VRRP socket on {}", interface));
}

Status LinuxVrrpSocket::open_ipv4(bool join_multicast) {
  for (auto s : {set_int(fd_, IPPROTO_IP, IP_MULTICAST_TTL, vrrp::kRequiredTtl, "IP_MULTICAST_TTL"),
                 set_int(fd_, IPPROTO_IP, IP_TTL, vrrp::kRequiredTtl, "IP_TTL"),
                 set_int(fd_, IPPROTO_IP, IP_MULTICAST_LOOP, 0, "IP_MULTICAST_LOOP"),
                 set_int(fd_, IPPROTO_IP, IP_TOS, kTrafficClass, "IP_TOS")})
    if (!s) return s;
  ip_mreqn mreq{};
  mreq.imr_ifindex = ifindex_;
  if (setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq) < 0)
    return Status::from_errno("IP_MULTICAST_IF");
  if (join_multicast) {
    auto group = vrrp_multicast_group(Family::ipv4);
    std::memcpy(&mreq.imr_multiaddr, group.bytes().data(), 4);
    if (setsockopt(fd_, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) < 0)
      return Status::from_errno("IP_ADD_MEMBERSHIP 224.0.0.18");
  }
  return Status::success();
}

Status LinuxVrrpSocket::open_ipv6(bool join_multicast) {
  for (auto s : {set_int(fd_, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, vrrp::kRequiredTtl, "IPV6_MULTICAST_HOPS"),
                 set_int(fd_, IPPROTO_IPV6, IPV6_UNICAST_HOPS, vrrp::kRequiredTtl, "IPV6_UNICAST_HOPS"),
                 set_int(fd_, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0, "IPV6_MULTICAST_LOOP"),
                 set_int(fd_, IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex_, "IPV6_MULTICAST_IF"),
                 set_int(fd_, IPPROTO_IPV6, IPV6_TCLASS, kTrafficClass, "IPV6_TCLASS"),
                 // The hop limit and destination are not in the payload of an
                 // IPv6 raw socket; ask for them as ancillary data.
                 set_int(fd_, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT"),
                 set_int(fd_, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO")})
    if (!s) return s;
  if (join_multicast) {
    ipv6_mreq mreq{};
    auto group = vrrp_multicast_group(Family::ipv6);
    std::memcpy(&mreq.ipv6mr_multiaddr, group.bytes().data(), 16);
    mreq.ipv6mr_interface = ifindex_;
    if (setsockopt(fd_, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mreq, sizeof mreq) < 0)
      return Status::from_errno("IPV6_JOIN_GROUP ff02::12");
  }
  return Status::success();
}

Status LinuxVrrpSocket::send(std::span<const uint8_t> message, const IpAddress& source,
                             const IpAddress& destination) {
  iovec iov{const_cast<uint8_t*>(message.data()), message.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo))] = {};
  msg.msg_control = control;
  sockaddr_in sin{};
  sockaddr_in6 sin6{};
  // The source is set per packet (IP_PKTINFO / IPV6_PKTINFO) rather than by
  // bind(): a bound raw socket would only receive packets sent to that
  // address, and the kernel might otherwise pick a VIP as the source.
  if (family_ == Family::ipv4) {
    sin.sin_family = AF_INET;
    std::memcpy(&sin.sin_addr, destination.bytes().data(), 4);
    msg.msg_name = &sin;
    msg.msg_namelen = sizeof sin;
    msg.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
    auto* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = IPPROTO_IP;
    cmsg->cmsg_type = IP_PKTINFO;
    cmsg->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
    in_pktinfo info{};
    info.ipi_ifindex = ifindex_;
    std::memcpy(&info.ipi_spec_dst, source.bytes().data(), 4);
    std::memcpy(CMSG_DATA(cmsg), &info, sizeof info);
  } else {
    sin6.sin6_family = AF_INET6;
    std::memcpy(&sin6.sin6_addr, destination.bytes().data(), 16);
    if (destination.is_multicast() || destination.is_link_local()) sin6.sin6_scope_id = ifindex_;
    msg.msg_name = &sin6;
    msg.msg_namelen = sizeof sin6;
    msg.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
    auto* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = IPPROTO_IPV6;
    cmsg->cmsg_type = IPV6_PKTINFO;
    cmsg->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
    in6_pktinfo info{};
    info.ipi6_ifindex = ifindex_;
    std::memcpy(&info.ipi6_addr, source.bytes().data(), 16);
    std::memcpy(CMSG_DATA(cmsg), &info, sizeof info);
  }
  if (sendmsg(fd_, &msg, 0) < 0)
    return Status::from_errno(fmt::format("send advert to {}", destination.to_string()));
  return Status::success();
}

VrrpSocket::ReceiveResult LinuxVrrpSocket::receive() {
  using Outcome = ReceiveResult::Outcome;
  sockaddr_in6 from{};
  iovec iov{buffer_.data(), buffer_.size()};
  alignas(cmsghdr) char control[256];
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = recvmsg(fd_, &msg, 0);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return {};
    return {Outcome::error, {}, Status::from_errno("recvmsg VRRP socket")};
  }
  std::span<const uint8_t> bytes(buffer_.data(), static_cast<size_t>(n));
  if (family_ == Family::ipv4) {
    // An IPv4 raw socket hands over the IP header: TTL and addresses from it.
    auto datagram = vrrp::parse_ipv4(bytes);
    if (!datagram) return {Outcome::malformed, {}, {}};
    return {Outcome::packet, {datagram->context, datagram->payload}, {}};
  }
  Received r;
  r.message = bytes;
  r.context.source = IpAddress::v6(std::span<const uint8_t, 16>(
      reinterpret_cast<const uint8_t*>(&from.sin6_addr), 16));
  for (auto* cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level != IPPROTO_IPV6) continue;
    if (cmsg->cmsg_type == IPV6_HOPLIMIT) {
      int hops;
      std::memcpy(&hops, CMSG_DATA(cmsg), sizeof hops);
      r.context.ttl = static_cast<uint8_t>(hops);
    } else if (cmsg->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo info;
      std::memcpy(&info, CMSG_DATA(cmsg), sizeof info);
      r.context.destination = IpAddress::v6(std::span<const uint8_t, 16>(
          reinterpret_cast<const uint8_t*>(&info.ipi6_addr), 16));
    }
  }
  return {Outcome::packet, r, {}};
}

}  // namespace pgvrrpd
