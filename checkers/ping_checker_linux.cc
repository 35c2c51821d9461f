#include "checkers/ping_checker_linux.h"

#include <linux/icmp.h>  // ICMP_FILTER
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "vrrpd/basics/log.h"

namespace pgvrrpd::checkers {
namespace {

// Distinct identifiers for the checkers of one process; the cookie and the
// source address tell apart another process that picked the same one.
uint16_t next_identifier() {
  static uint16_t counter = 0;
  return static_cast<uint16_t>(getpid() * 0x9e37 + counter++);
}

PingCookie random_cookie() {
  PingCookie cookie{};
  if (getrandom(cookie.data(), cookie.size(), GRND_NONBLOCK) != static_cast<ssize_t>(cookie.size())) {
    // Early boot without entropy: still distinct per process and checker.
    uint64_t fallback = static_cast<uint64_t>(Clock::now().time_since_epoch().count()) ^
                        static_cast<uint64_t>(getpid());
    std::memcpy(cookie.data(), &fallback, cookie.size());
  }
  return cookie;
}

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

SocketAddress to_sockaddr(const IpAddress& address) {
  SocketAddress out;
  auto bytes = address.bytes();
  if (address.family() == Family::ipv4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&out.storage);
    sin->sin_family = AF_INET;
    std::memcpy(&sin->sin_addr, bytes.data(), 4);
    out.length = sizeof *sin;
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    sin6->sin6_family = AF_INET6;
    std::memcpy(&sin6->sin6_addr, bytes.data(), 16);
    out.length = sizeof *sin6;
  }
  return out;
}

bool same_address(const sockaddr_storage& from, const IpAddress& target) {
  auto bytes = target.bytes();
  if (target.family() == Family::ipv4)
    return from.ss_family == AF_INET &&
           std::memcmp(&reinterpret_cast<const sockaddr_in&>(from).sin_addr, bytes.data(), 4) == 0;
  return from.ss_family == AF_INET6 &&
         std::memcmp(&reinterpret_cast<const sockaddr_in6&>(from).sin6_addr, bytes.data(), 16) == 0;
}

std::string millis(Duration d) {
  return fmt::format("{:.1f} ms", std::chrono::duration<double, std::milli>(d).count());
}

}  // namespace

PingChecker::PingChecker(EventLoop& loop, std::string name, PingParams params)
    : Checker(std::move(name)),
      loop_(loop),
      params_(params),
      hysteresis_(params.rise, params.fall),
      ticker_(loop, params.interval, [this] { tick(); }),
      timeout_timer_(loop, [this] { on_timeout(); }) {
  id_.identifier = next_identifier();
  id_.cookie = random_cookie();
}

PingChecker::~PingChecker() = default;

Status PingChecker::open_socket() {
  bool v4 = params_.target.family() == Family::ipv4;
  if (auto s = fd_.adopt(socket(v4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
                                v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6),
                         "cannot open an ICMP socket");
      !s)
    return s;
  int fd = fd_.get();
  // Only echo replies reach us: not the host's other ICMP traffic, nor our
  // own requests looping back from a local target.
  int rc;
  if (v4) {
    icmp_filter filter{~(1u << ICMP_ECHOREPLY)};
    rc = setsockopt(fd, SOL_RAW, ICMP_FILTER, &filter, sizeof filter);
  } else {
    icmp6_filter filter;
    ICMP6_FILTER_SETBLOCKALL(&filter);
    ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filter);
    rc = setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter);
  }
  if (rc < 0) {
    Status s = Status::from_errno("setsockopt ICMP filter");
    fd_.reset();
    return s;
  }
  return fd_.watch(EPOLLIN, [this](uint32_t) { on_readable(); });
}

void PingChecker::start() { ticker_.start(); }

void PingChecker::tick() {
  if (!outstanding_) send_probe();
}

void PingChecker::send_probe() {
  ++probes_;
  if (!fd_.open()) {
    if (auto s = open_socket(); !s) {
      result(false, s.message());
      return;
    }
  }
  ++id_.sequence;
  auto packet = build_echo_request(params_.target.family(), id_);
  auto to = to_sockaddr(params_.target);
  sent_at_ = loop_.now();
  if (sendto(fd_.get(), packet.data(), packet.size(), 0, reinterpret_cast<const sockaddr*>(&to.storage),
             to.length) < 0) {
    // No route, a down link...: a failure now rather than at the timeout.
    result(false, Status::from_errno(fmt::format("ping {}", params_.target.to_string())).message());
    return;
  }
  outstanding_ = true;
  timeout_timer_.arm(sent_at_ + params_.timeout);
}

void PingChecker::on_readable() {
  // A raw ICMP socket sees every ICMP packet the host gets: under a flood,
  // read a bounded batch and let the loop serve adverts and timers first
  // (the socket is level-triggered: the rest waits for the next turn).
  constexpr int kMaxPacketsPerWake = 64;
  std::array<uint8_t, 1500> buffer;
  for (int i = 0; i < kMaxPacketsPerWake; ++i) {
    sockaddr_storage from{};
    socklen_t from_length = sizeof from;
    ssize_t n = recvfrom(fd_.get(), buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&from),
                         &from_length);
    if (n < 0) return;  // EAGAIN, or an error the next send will show
    if (!outstanding_ || !same_address(from, params_.target) ||
        !is_echo_reply(params_.target.family(), std::span(buffer.data(), static_cast<size_t>(n)), id_))
      continue;  // someone else's, or a late reply to an earlier probe
    outstanding_ = false;
    timeout_timer_.disarm();
    ++replies_;
    result(true, fmt::format("reply from {} in {}", params_.target.to_string(),
                             millis(loop_.now() - sent_at_)));
  }
}

void PingChecker::on_timeout() {
  outstanding_ = false;
  result(false, fmt::format("no reply from {} within {}", params_.target.to_string(),
                            millis(params_.timeout)));
}

void PingChecker::result(bool ok, std::string reason) {
  log::debug("check {}: {}", name(), reason);
  if (auto verdict = hysteresis_.record(ok)) report(*verdict, reason);
}

}  // namespace pgvrrpd::checkers
