// Shared by the router unit tests: parameters, adverts and action queries.
#pragma once

#include <optional>

#include "vrrpd/core/router.h"

namespace router_fixtures {

using namespace pgvrrpd;
using namespace pgvrrpd::vrrp;
using namespace std::chrono_literals;

inline IpAddress addr(const char* text) { return *IpAddress::parse(text); }

inline RouterParams params(uint8_t priority, Centiseconds interval = Centiseconds(100),
                           uint8_t version = 3) {
  RouterParams p;
  p.name = "pg";
  p.vrid = 51;
  p.version = version;
  p.priority = priority;
  p.advert_interval = interval;
  p.virtual_ips = {*IpPrefix::parse("198.51.100.100")};
  return p;
}

inline const TimePoint t0 = TimePoint(1000s);

inline Advert advert_from(uint8_t priority, Centiseconds interval = Centiseconds(100)) {
  Advert a;
  a.vrid = 51;
  a.priority = priority;
  a.interval = interval;
  a.addresses = {addr("198.51.100.100")};
  return a;
}

using Kind = Action::Kind;

inline bool has(const Actions& actions, Kind kind) {
  for (const auto& a : actions)
    if (a.kind == kind) return true;
  return false;
}

inline std::optional<Action> transition(const Actions& actions) {
  for (const auto& a : actions)
    if (a.kind == Kind::transition) return a;
  return std::nullopt;
}

inline std::optional<uint8_t> sent_priority(const Actions& actions) {
  for (const auto& a : actions)
    if (a.kind == Kind::send_advert) return a.priority;
  return std::nullopt;
}

inline const IpAddress kSelf = addr("198.51.100.12");
inline const IpAddress kLowerPeer = addr("198.51.100.11");
inline const IpAddress kHigherPeer = addr("198.51.100.13");

}  // namespace router_fixtures
