// The daemon's edge on Linux: libnl, raw sockets, signalfd, rtnetlink link
// notifications.
#pragma once

#include "vrrpd/wiring/daemon_edge.h"

namespace pgvrrpd {

class LinuxDaemonEdge final : public DaemonEdge {
 public:
  Result<std::unique_ptr<Netlink>> open_netlink() override;
  Result<std::unique_ptr<VrrpSocket>> open_socket(const std::string& interface, int ifindex,
                                                  Family family, bool join_multicast) override;
  Result<std::unique_ptr<Announcer>> open_announcer(int ifindex, MacAddress mac,
                                                    Family family) override;
  Status handle_signals(EventLoop& loop, std::initializer_list<int> signals,
                        std::function<void(int)> callback) override;
  std::unique_ptr<LinkCheck> make_link_check(EventLoop& loop,
                                             const std::string& interface) override;
};

}  // namespace pgvrrpd
