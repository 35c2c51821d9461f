// The receive checks of RFC 5798 7.1 / RFC 3768 7.1 that need the router's
// configuration, after the codec has checked the packet's structure.
#pragma once

#include <array>
#include <span>

#include "vrrpd/core/packet.h"
#include "vrrpd/core/router.h"

namespace pgvrrpd::vrrp {

// Returns Reject::none when `router` should process the advert. `local` is
// the router's own primary address (to drop our own adverts looped back).
Reject filter_advert(const Advert& advert, const PacketContext& context,
                     const RouterParams& router, const IpAddress& local);

// What one interface and family knows of its routers, indexed by VRID;
// null where no router is configured.
struct RouterSlot {
  const RouterParams* params = nullptr;
  IpAddress local;  // the router's primary address
};
using RoutersByVrid = std::array<RouterSlot, 256>;

struct Classified {
  Reject reject = Reject::none;
  Advert advert;  // valid when reject == none
};

// The whole receive path of one VRRP message: the codec's structure checks,
// the VRID lookup (RFC 5798 7.1: "the VRID is configured on the receiving
// interface"), then filter_advert. Pure, so every rejection has a unit test.
Classified classify(std::span<const uint8_t> message, const PacketContext& context,
                    const RoutersByVrid& routers);

}  // namespace pgvrrpd::vrrp
