#include "vrrpd/wiring/router_runtime.h"

#include <algorithm>

#include "vrrpd/basics/log.h"

namespace pgvrrpd {

RouterRuntime::RouterRuntime(EventLoop& loop, RouterLinks links, const RouterConfig& config,
                             IpAddress primary_address)
    : loop_(loop),
      links_(links),
      config_(config),
      router_(config.params, primary_address),
      protocol_timer_(loop, [this] {
        apply(router_.expire(loop_.now()));
      }),
      vips_(loop, links.netlink, links.ifindex, config),
      announce_timer_(loop, [this] { announce_once(); }),
      vip_fault_clear_(loop, [this] {
        apply(router_.set_fault(loop_.now(), "vip", false, "trying the VIPs again"));
      }),
      policy_(loop, config, router_, [this](const vrrp::Actions& a) { apply(a); }) {
  // A master that cannot put its VIP on the interface serves nobody: it
  // resigns (FAULT, a priority 0 advert) so the peer takes over, and tries
  // again kVipFaultHold later.
  vips_.set_add_failed_listener([this](const std::string& reason) {
    apply(router_.set_fault(loop_.now(), "vip", true, reason));
    vip_fault_clear_.arm(loop_.now() + kVipFaultHold);
  });
}

void RouterRuntime::start(bool vips_present) {
  if (vips_present) vips_.adopt();
  apply(router_.start(loop_.now(), vips_present));
}

void RouterRuntime::on_advert(const vrrp::Advert& advert, const vrrp::PacketContext& context) {
  apply(router_.receive(loop_.now(), advert, context.source));
}

void RouterRuntime::shutdown() { apply(router_.shutdown(loop_.now())); }

void RouterRuntime::apply(const vrrp::Actions& actions) {
  using Kind = vrrp::Action::Kind;
  for (const auto& action : actions) {
    switch (action.kind) {
      case Kind::send_advert: send_advert(action.priority); break;
      case Kind::add_vips: vips_.add(); break;
      case Kind::remove_vips: remove_vips(); break;
      case Kind::announce: start_announcing(); break;
      case Kind::transition:
        // The stable transition line, documented in pgvrrpd(8).
        log::info("transition router={} vrid={} from={} to={} reason=\"{}\"", config_.params.name,
                  config_.params.vrid, vrrp::state_name(action.from), vrrp::state_name(action.to),
                  action.reason);
        ++transitions_[static_cast<size_t>(action.to)];
        ++transitions_by_cause_[{action.to, action.cause}];
        last_transition_ = TransitionRecord{action.from, action.to, action.reason, loop_.now(),
                                            std::chrono::system_clock::now()};
        policy_.on_transition(action);
        break;
      case Kind::notice:
        log::info("note router={} vrid={} state={}: {}", config_.params.name,
                  config_.params.vrid, vrrp::state_name(router_.state()), action.reason);
        break;
    }
  }
  arm_protocol_timer();
  // A routine advert changes nothing the policy looks at; skipping it keeps
  // a 0.01 s master's wake-ups short.
  bool only_adverts = std::all_of(actions.begin(), actions.end(), [](const vrrp::Action& a) {
    return a.kind == vrrp::Action::Kind::send_advert;
  });
  if (!only_adverts) policy_.reevaluate();
  if (change_listener_) change_listener_();
}

void RouterRuntime::warn_limited(const std::string& message) {
  // A down link fails every send, ten times a second at 0.1 s adverts:
  // log the first failure and then at most one every kWarnInterval.
  constexpr auto kWarnInterval = std::chrono::seconds(10);
  ++suppressed_warnings_;
  auto now = loop_.now();
  if (last_warning_ && now - *last_warning_ < kWarnInterval) return;
  std::string repeats = suppressed_warnings_ > 1
                            ? fmt::format(" ({} similar since the last report)", suppressed_warnings_ - 1)
                            : "";
  log::warning("router {}: {}{}", config_.params.name, message, repeats);
  last_warning_ = now;
  suppressed_warnings_ = 0;
}

void RouterRuntime::arm_protocol_timer() {
  if (auto deadline = router_.next_deadline())
    protocol_timer_.arm(*deadline);
  else
    protocol_timer_.disarm();
}

void RouterRuntime::send_advert(uint8_t priority) {
  auto advert = router_.make_advert(priority);
  const auto& source = router_.primary_address();
  auto send_to = [&](const IpAddress& destination) {
    auto bytes = vrrp::encode(advert, source, destination, config_.params.checksum_mode);
    if (auto s = links_.socket.send(bytes, source, destination); !s)
      warn_limited(s.message());
    else
      ++adverts_sent_;
  };
  if (config_.params.unicast_peers.empty()) {
    send_to(vrrp_multicast_group(config_.params.family));
  } else {
    for (const auto& peer : config_.params.unicast_peers) send_to(peer);
  }
}

void RouterRuntime::remove_vips() {
  announce_timer_.disarm();
  announcements_left_ = 0;
  vips_.remove();
}

void RouterRuntime::start_announcing() {
  // A burst of garp_repeat announcements garp_delay apart (one frame may be
  // lost, a switch may still be learning), then one every garp_refresh.
  announcements_left_ = config_.garp_repeat;
  announce_once();
}

void RouterRuntime::announce_once() {
  if (router_.state() != vrrp::State::master) return;
  if (announcements_left_ > 0) {
    --announcements_left_;
    for (const auto& vip : config_.params.virtual_ips) {
      if (auto s = links_.announcer.announce(vip.address, links_.link_local); !s)
        warn_limited(fmt::format("announce {}: {}", vip.to_string(), s.message()));
    }
  }
  if (announcements_left_ > 0) {
    announce_timer_.arm(loop_.now() + config_.garp_delay);
  } else if (config_.garp_refresh > Duration::zero()) {
    announcements_left_ = 1;
    announce_timer_.arm(loop_.now() + config_.garp_refresh);
  }
}

}  // namespace pgvrrpd
