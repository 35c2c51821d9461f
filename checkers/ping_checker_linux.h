// type = ping: an ICMP / ICMPv6 echo request to `target` every interval; a
// matching reply within the timeout is a pass, no reply (or a send that
// fails, e.g. no route) a failure.
//
// Raw sockets (SOCK_RAW, IPPROTO_ICMP / IPPROTO_ICMPV6), not the
// unprivileged ICMP datagram sockets: those need the sysctl
// net.ipv4.ping_group_range to cover our group, and its default "1 0"
// allows nobody, root included; the daemon holds CAP_NET_RAW anyway for its
// VRRP socket. A raw socket sees every echo reply on the host, so replies
// are matched by identifier, sequence, a random 8-byte cookie and source
// address, and the kernel filter (ICMP_FILTER / ICMP6_FILTER) passes only
// echo replies.
//
// One probe at a time, as with exec: at an interval with a probe still
// unanswered, nothing is sent; its timeout ends it.
#pragma once

#include <cstdint>
#include <string>

#include "checkers/checker.h"
#include "checkers/ping_packet.h"
#include "vrrpd/loop/event_loop_linux.h"
#include "vrrpd/loop/periodic_timer.h"
#include "vrrpd/basics/ip_address.h"

namespace pgvrrpd::checkers {

struct PingParams {
  IpAddress target;
  Duration interval = std::chrono::seconds(1);
  Duration timeout = std::chrono::seconds(1);
  uint32_t rise = 1;
  uint32_t fall = 3;
};

class PingChecker : public Checker {
 public:
  PingChecker(EventLoop& loop, std::string name, PingParams params);
  ~PingChecker() override;
  PingChecker(const PingChecker&) = delete;
  PingChecker& operator=(const PingChecker&) = delete;

  // The first probe goes out at once. A socket that cannot be opened (no
  // CAP_NET_RAW) makes every probe a failure, and is retried at each one.
  void start() override;

  uint64_t probes() const { return probes_; }
  uint64_t replies() const { return replies_; }

 private:
  void tick();
  void send_probe();
  void on_readable();
  void on_timeout();
  Status open_socket();
  void result(bool ok, std::string reason);

  EventLoop& loop_;
  PingParams params_;
  Hysteresis hysteresis_;
  PeriodicTimer ticker_;  // every interval
  Timer timeout_timer_;
  TimePoint sent_at_{};
  WatchedFd fd_{loop_};
  EchoId id_;
  bool outstanding_ = false;
  uint64_t probes_ = 0;
  uint64_t replies_ = 0;
};

}  // namespace pgvrrpd::checkers
