// The receive checks of RFC 5798 7.1 / RFC 3768 7.1 that need the router's
// configuration, after the codec has checked the packet's structure.
#pragma once

#include "vrrpd/packet.h"
#include "vrrpd/router.h"

namespace pgvrrpd::vrrp {

// Returns Reject::none when `router` should process the advert. `local` is
// the router's own primary address (to drop our own adverts looped back).
Reject filter_advert(const Advert& advert, const PacketContext& context,
                     const RouterParams& router, const IpAddress& local);

}  // namespace pgvrrpd::vrrp
