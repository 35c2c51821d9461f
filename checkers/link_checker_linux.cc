#include "checkers/link_checker_linux.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "vrrpd/basics/log.h"

namespace pgvrrpd::checkers {

std::vector<LinkEvent> parse_link_messages(std::span<const uint8_t> datagram) {
  std::vector<LinkEvent> events;
  size_t offset = 0;
  while (datagram.size() - offset >= sizeof(nlmsghdr)) {
    nlmsghdr header;
    std::memcpy(&header, datagram.data() + offset, sizeof header);
    if (header.nlmsg_len < sizeof header || header.nlmsg_len > datagram.size() - offset) break;
    auto message = datagram.subspan(offset, header.nlmsg_len);
    // The last message's padding may be missing: never step past the end
    // (the loop's size arithmetic is unsigned).
    offset = std::min(datagram.size(), offset + NLMSG_ALIGN(header.nlmsg_len));

    if (header.nlmsg_type == NLMSG_ERROR) {
      nlmsgerr error;
      if (message.size() < NLMSG_LENGTH(sizeof error)) break;
      std::memcpy(&error, message.data() + NLMSG_HDRLEN, sizeof error);
      // The kernel sends a negative errno (0 is an ack). Anything else is
      // not from it, and negating INT_MIN would overflow: malformed, skipped.
      if (error.error < 0 && error.error >= -4095)
        events.push_back({LinkEvent::Kind::error, {}, false, -error.error});
      continue;
    }
    if (header.nlmsg_type != RTM_NEWLINK && header.nlmsg_type != RTM_DELLINK) continue;
    ifinfomsg info;
    if (message.size() < NLMSG_LENGTH(sizeof info)) break;
    std::memcpy(&info, message.data() + NLMSG_HDRLEN, sizeof info);

    LinkEvent event;
    event.kind = header.nlmsg_type == RTM_DELLINK ? LinkEvent::Kind::deleted
                                                  : LinkEvent::Kind::state;
    event.up = (info.ifi_flags & IFF_UP) != 0 && (info.ifi_flags & IFF_RUNNING) != 0;
    // Attributes follow the ifinfomsg, each 4-byte aligned.
    size_t at = NLMSG_LENGTH(NLMSG_ALIGN(sizeof info));
    while (message.size() >= at + sizeof(rtattr)) {
      rtattr attribute;
      std::memcpy(&attribute, message.data() + at, sizeof attribute);
      if (attribute.rta_len < sizeof attribute || attribute.rta_len > message.size() - at) break;
      if (attribute.rta_type == IFLA_IFNAME) {
        const char* text = reinterpret_cast<const char*>(message.data() + at + RTA_LENGTH(0));
        size_t length = attribute.rta_len - RTA_LENGTH(0);
        event.name.assign(text, strnlen(text, length));
      }
      at += RTA_ALIGN(attribute.rta_len);
    }
    events.push_back(std::move(event));
  }
  return events;
}

LinkChecker::LinkChecker(EventLoop& loop, std::string interface)
    : Checker("link " + interface), loop_(loop), interface_(std::move(interface)) {}

LinkChecker::~LinkChecker() = default;

void LinkChecker::start() {
  if (auto s = open(); !s) {
    log::error("check {}: {}", name(), s.message());
    report(false, s.message());
  }
}

Status LinkChecker::open() {
  if (auto s = fd_.adopt(socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE),
                          "cannot open a netlink socket");
      !s)
    return s;
  sockaddr_nl address{};
  address.nl_family = AF_NETLINK;
  address.nl_groups = RTMGRP_LINK;
  if (bind(fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) < 0) {
    Status s = Status::from_errno("cannot join RTMGRP_LINK");
    fd_.reset();
    return s;
  }
  if (auto s = fd_.watch(EPOLLIN, [this](uint32_t) { on_readable(); }); !s) return s;
  // Subscribed first, asked second: a change in between is not lost.
  return request_state();
}

// RTM_GETLINK by name: the answer is one RTM_NEWLINK, or ENODEV.
Status LinkChecker::request_state() {
  struct {
    nlmsghdr header;
    ifinfomsg info;
    std::array<char, RTA_SPACE(IFNAMSIZ)> attributes;
  } request{};
  auto* name = reinterpret_cast<rtattr*>(request.attributes.data());
  name->rta_type = IFLA_IFNAME;
  name->rta_len = static_cast<unsigned short>(RTA_LENGTH(interface_.size() + 1));
  std::memcpy(RTA_DATA(name), interface_.c_str(), interface_.size() + 1);
  request.header.nlmsg_len = NLMSG_LENGTH(sizeof request.info) + RTA_ALIGN(name->rta_len);
  request.header.nlmsg_type = RTM_GETLINK;
  request.header.nlmsg_flags = NLM_F_REQUEST;
  request.header.nlmsg_seq = ++sequence_;
  request.info.ifi_family = AF_UNSPEC;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd_.get(), &request, request.header.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel),
             sizeof kernel) < 0)
    return Status::from_errno(fmt::format("RTM_GETLINK {}", interface_));
  return Status::success();
}

void LinkChecker::on_readable() {
  std::array<uint8_t, 16384> buffer;
  while (true) {
    ssize_t n = recv(fd_.get(), buffer.data(), buffer.size(), 0);
    if (n < 0) {
      // The kernel dropped notifications we were too slow for: what we
      // know may be stale, so ask again.
      if (errno == ENOBUFS) {
        if (auto s = request_state(); !s) log::warning("check {}: {}", name(), s.message());
        continue;
      }
      return;  // EAGAIN
    }
    for (const LinkEvent& event :
         parse_link_messages(std::span(buffer.data(), static_cast<size_t>(n))))
      apply(event);
  }
}

void LinkChecker::apply(const LinkEvent& event) {
  bool up = false;
  std::string reason;
  switch (event.kind) {
    case LinkEvent::Kind::error:
      // The only request we send is ours; ENODEV: no such interface.
      up = false;
      reason = fmt::format("{}: {}", interface_, std::strerror(event.error));
      break;
    case LinkEvent::Kind::deleted:
      if (event.name != interface_) return;
      up = false;
      reason = fmt::format("{} was removed", interface_);
      break;
    case LinkEvent::Kind::state:
      if (event.name != interface_) return;
      up = event.up;
      reason = fmt::format("{} link {}", interface_, up ? "up" : "down");
      break;
  }
  if (up_ == up) return;
  bool first = !up_.has_value();
  up_ = up;
  // A check starts failing: a first "down" is news for the log but no
  // change of verdict. Report it anyway, once, so the daemon learns why.
  if (first || up != passing()) report(up, reason);
}

}  // namespace pgvrrpd::checkers
