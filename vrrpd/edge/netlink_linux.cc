#include "vrrpd/edge/netlink_linux.h"

#include <linux/if_addr.h>
#include <netlink/addr.h>
#include <netlink/attr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>

namespace pgvrrpd {
namespace {

// The kernel's "no expiry" lifetime (include/net/addrconf.h INFINITY_LIFE_TIME;
// not exported to userspace headers).
constexpr uint32_t kInfinityLifeTime = 0xFFFFFFFFu;

struct LinkDeleter {
  void operator()(rtnl_link* link) const { rtnl_link_put(link); }
};
struct AddrDeleter {
  void operator()(rtnl_addr* addr) const { rtnl_addr_put(addr); }
};
struct NlAddrDeleter {
  void operator()(nl_addr* addr) const { nl_addr_put(addr); }
};
struct CacheDeleter {
  void operator()(nl_cache* cache) const { nl_cache_free(cache); }
};
struct MsgDeleter {
  void operator()(nl_msg* msg) const { nlmsg_free(msg); }
};
using LinkPtr = std::unique_ptr<rtnl_link, LinkDeleter>;
using AddrPtr = std::unique_ptr<rtnl_addr, AddrDeleter>;
using NlAddrPtr = std::unique_ptr<nl_addr, NlAddrDeleter>;
using CachePtr = std::unique_ptr<nl_cache, CacheDeleter>;
using MsgPtr = std::unique_ptr<nl_msg, MsgDeleter>;

// libnl returns its own negative NLE_* codes, not errno, so the Status carries
// the libnl text and no errno.
Status nl_error(std::string_view context, int err) {
  return Status::error(fmt::format("{}: {}", context, nl_geterror(err < 0 ? -err : err)));
}

int af(Family family) { return family == Family::ipv4 ? AF_INET : AF_INET6; }

std::optional<IpAddress> to_ip(nl_addr* addr) {
  if (addr == nullptr) return std::nullopt;
  auto* data = static_cast<const uint8_t*>(nl_addr_get_binary_addr(addr));
  unsigned len = nl_addr_get_len(addr);
  if (nl_addr_get_family(addr) == AF_INET && len == 4)
    return IpAddress::v4(std::span<const uint8_t, 4>(data, 4));
  if (nl_addr_get_family(addr) == AF_INET6 && len == 16)
    return IpAddress::v6(std::span<const uint8_t, 16>(data, 16));
  return std::nullopt;
}

struct KernelAddress {
  IpPrefix prefix;
  unsigned flags = 0;  // IFA_F_*
};

Result<std::vector<KernelAddress>> dump_addresses(nl_sock* socket, int ifindex,
                                                  Family family) {
  nl_cache* raw = nullptr;
  if (int err = rtnl_addr_alloc_cache(socket, &raw); err < 0)
    return nl_error("dumping addresses", err);
  CachePtr cache(raw);

  std::vector<KernelAddress> out;
  for (nl_object* obj = nl_cache_get_first(cache.get()); obj != nullptr;
       obj = nl_cache_get_next(obj)) {
    auto* addr = reinterpret_cast<rtnl_addr*>(obj);
    if (rtnl_addr_get_ifindex(addr) != ifindex || rtnl_addr_get_family(addr) != af(family))
      continue;
    // IFA_LOCAL is the interface's own address; on point-to-point IPv4 links
    // IFA_ADDRESS is the peer's, which is not ours to use.
    auto ip = to_ip(rtnl_addr_get_local(addr));
    if (!ip) continue;
    out.push_back({IpPrefix{*ip, static_cast<uint8_t>(rtnl_addr_get_prefixlen(addr))},
                   rtnl_addr_get_flags(addr)});
  }
  return out;
}

// The request both add and remove send: ifindex, family, IFA_LOCAL (and the
// IFA_ADDRESS libnl copies from it), prefix length.
Result<AddrPtr> address_template(int ifindex, const IpPrefix& prefix) {
  AddrPtr addr(rtnl_addr_alloc());
  if (!addr) return Status::error("rtnl_addr_alloc: out of memory", ENOMEM);
  auto bytes = prefix.address.bytes();
  NlAddrPtr local(nl_addr_build(af(prefix.address.family()), bytes.data(), bytes.size()));
  if (!local) return Status::error("nl_addr_build: out of memory", ENOMEM);
  rtnl_addr_set_ifindex(addr.get(), ifindex);
  rtnl_addr_set_family(addr.get(), af(prefix.address.family()));
  if (int err = rtnl_addr_set_local(addr.get(), local.get()); err < 0)
    return nl_error("rtnl_addr_set_local", err);
  // After set_local, which copies the nl_addr's own (zero) prefix length.
  rtnl_addr_set_prefixlen(addr.get(), prefix.length);
  return addr;
}

}  // namespace

Result<LinuxNetlink> LinuxNetlink::open() {
  nl_sock* socket = nl_socket_alloc();
  if (socket == nullptr) return Status::error("nl_socket_alloc: out of memory", ENOMEM);
  if (int err = nl_connect(socket, NETLINK_ROUTE); err < 0) {
    nl_socket_free(socket);
    return nl_error("connecting rtnetlink socket", err);
  }
  // Each call waits for the kernel's ack on the daemon's only thread: bound
  // the wait, so that a wedged kernel costs one failed call (VipKeeper
  // retries) and not the adverts. A late ack then fails the next call's
  // sequence check, which is retried the same way.
  const timeval ack_wait{.tv_sec = 1, .tv_usec = 0};
  if (setsockopt(nl_socket_get_fd(socket), SOL_SOCKET, SO_RCVTIMEO, &ack_wait,
                 sizeof ack_wait) < 0) {
    auto status = Status::from_errno("SO_RCVTIMEO on the rtnetlink socket");
    nl_socket_free(socket);
    return status;
  }
  return LinuxNetlink(socket);
}

LinuxNetlink::LinuxNetlink(LinuxNetlink&& other) noexcept
    : socket_(std::exchange(other.socket_, nullptr)) {}

LinuxNetlink& LinuxNetlink::operator=(LinuxNetlink&& other) noexcept {
  if (this != &other) {
    if (socket_ != nullptr) nl_socket_free(socket_);
    socket_ = std::exchange(other.socket_, nullptr);
  }
  return *this;
}

LinuxNetlink::~LinuxNetlink() {
  // nl_socket_free closes the fd too.
  if (socket_ != nullptr) nl_socket_free(socket_);
}

Result<int> LinuxNetlink::ifindex(const std::string& name) {
  rtnl_link* raw = nullptr;
  if (int err = rtnl_link_get_kernel(socket_, 0, name.c_str(), &raw); err < 0)
    return nl_error(fmt::format("looking up interface {}", name), err);
  LinkPtr link(raw);
  return rtnl_link_get_ifindex(link.get());
}

Result<MacAddress> LinuxNetlink::mac(int ifindex) {
  rtnl_link* raw = nullptr;
  if (int err = rtnl_link_get_kernel(socket_, ifindex, nullptr, &raw); err < 0)
    return nl_error(fmt::format("looking up interface #{}", ifindex), err);
  LinkPtr link(raw);
  nl_addr* lladdr = rtnl_link_get_addr(link.get());  // borrowed, not ours to put
  if (lladdr == nullptr || nl_addr_get_len(lladdr) != 6)
    return Status::error(
        fmt::format("interface #{} has no 6-byte link-layer address", ifindex));
  MacAddress mac{};
  std::memcpy(mac.data(), nl_addr_get_binary_addr(lladdr), mac.size());
  // Loopback and some virtual links report 00:00:00:00:00:00; announcing
  // that would point neighbours' caches at nothing.
  if (std::all_of(mac.begin(), mac.end(), [](uint8_t b) { return b == 0; }))
    return Status::error(fmt::format("interface #{} has an all-zero MAC address", ifindex));
  return mac;
}

Result<std::vector<IpPrefix>> LinuxNetlink::addresses(int ifindex, Family family) {
  auto dumped = dump_addresses(socket_, ifindex, family);
  if (!dumped) return dumped.status();
  std::vector<IpPrefix> out;
  out.reserve(dumped->size());
  for (const auto& a : *dumped) out.push_back(a.prefix);
  return out;
}

Result<IpAddress> LinuxNetlink::primary_address(int ifindex, Family family,
                                           const std::vector<IpPrefix>& exclude) {
  auto dumped = dump_addresses(socket_, ifindex, family);
  if (!dumped) return dumped.status();
  auto excluded = [&](const IpAddress& ip) {
    return std::any_of(exclude.begin(), exclude.end(),
                       [&](const IpPrefix& p) { return p.address == ip; });
  };

  std::optional<IpAddress> fallback;
  for (const auto& a : *dumped) {
    const IpAddress& ip = a.prefix.address;
    if (excluded(ip)) continue;
    if (family == Family::ipv6) {
      if (ip.is_link_local() && (a.flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) == 0)
        return ip;
      continue;
    }
    if ((a.flags & IFA_F_SECONDARY) == 0) return ip;
    if (!fallback) fallback = ip;
  }
  if (fallback) return *fallback;
  return Status::error(fmt::format(
      "interface #{} has no usable {} source address{}", ifindex, family_name(family),
      family == Family::ipv6 ? " (no link-local, or it is still tentative)" : ""));
}

Status LinuxNetlink::add_address(int ifindex, const IpPrefix& prefix,
                                 uint32_t lease_seconds) {
  auto addr = address_template(ifindex, prefix);
  if (!addr) return addr.status();
  uint32_t lifetime = lease_seconds == 0 ? kInfinityLifeTime : lease_seconds;
  rtnl_addr_set_valid_lifetime(addr->get(), lifetime);
  rtnl_addr_set_preferred_lifetime(addr->get(), lifetime);

  // NLM_F_REPLACE without NLM_F_EXCL: the kernel updates the lifetimes of an
  // existing address instead of answering EEXIST (inet_rtm_newaddr,
  // inet6_rtm_newaddr).
  nl_msg* raw = nullptr;
  if (int err = rtnl_addr_build_add_request(addr->get(), NLM_F_REPLACE, &raw); err < 0)
    return nl_error("building RTM_NEWADDR", err);
  MsgPtr msg(raw);

  if (prefix.address.family() == Family::ipv6) {
    // Some libnl releases drop rtnl_addr_set_flags() when building the
    // request, so the flag is written into the message directly: both the
    // 8-bit ifa_flags and IFA_FLAGS (the kernel prefers the latter).
    auto* header = static_cast<ifaddrmsg*>(nlmsg_data(nlmsg_hdr(msg.get())));
    header->ifa_flags |= IFA_F_NODAD;
    if (int err = nla_put_u32(msg.get(), IFA_FLAGS, IFA_F_NODAD); err < 0)
      return nl_error("adding IFA_FLAGS", err);
  }

  auto context = [&] {
    return fmt::format("adding {} to interface #{}", prefix.to_string(), ifindex);
  };
  if (int err = nl_send_auto_complete(socket_, msg.get()); err < 0)
    return nl_error(context(), err);
  if (int err = nl_wait_for_ack(socket_); err < 0) return nl_error(context(), err);
  return Status::success();
}

Status LinuxNetlink::remove_address(int ifindex, const IpPrefix& prefix) {
  auto addr = address_template(ifindex, prefix);
  if (!addr) return addr.status();
  int err = rtnl_addr_delete(socket_, addr->get(), 0);
  // EADDRNOTAVAIL (NLE_NOADDR) is the kernel's "no such address" for both
  // families: the lease expired or it was never there, which is the state
  // the caller wants.
  if (err == -NLE_NOADDR || err == -NLE_OBJ_NOTFOUND) return Status::success();
  if (err < 0)
    return nl_error(
        fmt::format("removing {} from interface #{}", prefix.to_string(), ifindex), err);
  return Status::success();
}

}  // namespace pgvrrpd
