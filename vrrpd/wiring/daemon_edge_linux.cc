#include "vrrpd/wiring/daemon_edge_linux.h"

#include <utility>

#include "checkers/link_checker_linux.h"
#include "vrrpd/edge/announce_linux.h"
#include "vrrpd/edge/netlink_linux.h"
#include "vrrpd/edge/vrrp_socket_linux.h"

namespace pgvrrpd {

namespace {

class LinuxLinkCheck final : public LinkCheck {
 public:
  LinuxLinkCheck(EventLoop& loop, const std::string& interface) : checker_(loop, interface) {}
  void set_listener(checkers::Checker::Listener listener) override {
    checker_.set_listener(std::move(listener));
  }
  Status open() override { return checker_.open(); }

 private:
  checkers::LinkChecker checker_;
};

}  // namespace

Result<std::unique_ptr<Netlink>> LinuxDaemonEdge::open_netlink() {
  auto netlink = LinuxNetlink::open();
  if (!netlink) return netlink.status();
  return std::unique_ptr<Netlink>(std::make_unique<LinuxNetlink>(std::move(*netlink)));
}

Result<std::unique_ptr<VrrpSocket>> LinuxDaemonEdge::open_socket(const std::string& interface,
                                                                 int ifindex, Family family,
                                                                 bool join_multicast) {
  auto socket = std::make_unique<LinuxVrrpSocket>();
  if (auto s = socket->open(interface, ifindex, family, join_multicast); !s) return s;
  return std::unique_ptr<VrrpSocket>(std::move(socket));
}

Result<std::unique_ptr<Announcer>> LinuxDaemonEdge::open_announcer(int ifindex, MacAddress mac,
                                                                   Family family) {
  auto announcer = std::make_unique<LinuxAnnouncer>();
  if (auto s = announcer->open(ifindex, mac, family); !s) return s;
  return std::unique_ptr<Announcer>(std::move(announcer));
}

Status LinuxDaemonEdge::handle_signals(EventLoop& loop, std::initializer_list<int> signals,
                                       std::function<void(int)> callback) {
  return loop.handle_signals(signals, std::move(callback));
}

std::unique_ptr<LinkCheck> LinuxDaemonEdge::make_link_check(EventLoop& loop,
                                                            const std::string& interface) {
  return std::make_unique<LinuxLinkCheck>(loop, interface);
}

}  // namespace pgvrrpd
