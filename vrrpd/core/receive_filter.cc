#include "vrrpd/core/receive_filter.h"

#include <algorithm>

namespace pgvrrpd::vrrp {
namespace {

// RFC 3768 7.1: the Auth Type must match ours and its method must pass.
// Type 1 is RFC 2338's simple text password (5.3.6.2), which RFC 3768 5.3.6
// keeps for compatibility and keepalived still sends: all 8 bytes compared.
// Otherwise the data is ignored on reception (RFC 3768 5.3.10).
bool auth_matches(const Advert& advert, const RouterParams& router) {
  if (advert.auth_type != router.auth_type) return false;
  return router.auth_type != 1 || advert.auth_data == router.auth_data;
}

}  // namespace

// Checks run cheapest and most general first, so a packet that fails several
// is counted under the reason closest to the wire.
Reject filter_advert(const Advert& advert, const PacketContext& context,
                     const RouterParams& router, const IpAddress& local) {
  // RFC 5798 1: the IPv4 and IPv6 virtual routers are separate instances.
  if (context.source.family() != router.family) return Reject::family_mismatch;
  // RFC 5798 7.1 / RFC 3768 7.1: the version must be the one we run.
  if (advert.version != router.version) return Reject::bad_version;
  // Multicast loops our own adverts back to us.
  if (context.source == local) return Reject::own_packet;

  bool unicast = !router.unicast_peers.empty();
  if (!unicast) {
    // RFC 5798 7.1 / RFC 3768 7.1: TTL (hop limit) 255 proves the sender is
    // on the link. Only the group is accepted as destination (RFC 5798
    // 5.1.1.2 / 5.1.2.2), so a peer stuck in unicast mode is seen, not obeyed.
    if (context.ttl != kRequiredTtl) return Reject::bad_ttl;
    if (context.destination != vrrp_multicast_group(router.family))
      return Reject::unexpected_destination;
  } else if (router.unicast_ttl_check && context.ttl != kRequiredTtl) {
    // Unicast is outside the RFCs; keepalived sends it with TTL 255 too.
    // Routed peers need unicast_ttl_check = false.
    return Reject::bad_ttl;
  }
  // VRRP has no authentication: anyone on the link can send an advert with
  // a high priority. The configured peers are the only senders we obey; a
  // forged source on the same link gets past this, which is why the policy
  // also asks the peer's database before it gives anything up.
  auto listed = [&](const std::vector<IpAddress>& list) {
    return std::find(list.begin(), list.end(), context.source) != list.end();
  };
  if ((unicast || !router.peers.empty()) && !listed(router.unicast_peers) &&
      !listed(router.peers))
    return Reject::unexpected_source;

  // RFC 5798 7.1 / RFC 3768 7.1: an address owner MUST discard adverts for
  // its VRID; it stays master whatever others say. (RFC 9568 7.1 relaxes this
  // to a SHOULD; we keep the stricter rule of the RFCs we implement.)
  if (router.priority == kOwnerPriority) return Reject::owner_conflict;

  if (router.version == 2 && !auth_matches(advert, router)) return Reject::auth_mismatch;

  // RFC 3768 7.1: on an address list mismatch the packet MUST be dropped
  // unless it came from the address owner (priority 255). RFC 5798 7.1 only
  // asks for a log line; we drop for v3 as well (as keepalived does), since
  // a master advertising other VIPs is a misconfiguration we must not follow.
  // A priority 0 advert is dropped too: the backup then waits out
  // Master_Down_Interval instead of Skew_Time, slower but never wrong.
  if (advert.priority != kOwnerPriority) {
    if (advert.addresses.size() != router.virtual_ips.size())
      return Reject::address_count_mismatch;
    // RFC 3768 7.1 asks for the same addresses, not only as many, in any
    // order (keepalived sends them in its configured order).
    for (const auto& vip : router.virtual_ips)
      if (std::find(advert.addresses.begin(), advert.addresses.end(), vip.address) ==
          advert.addresses.end())
        return Reject::address_mismatch;
  }

  // RFC 3768 7.1: v2 intervals are not learned, they must agree.
  if (router.version == 2 && advert.interval != router.advert_interval)
    return Reject::interval_mismatch;

  return Reject::none;
}

Classified classify(std::span<const uint8_t> message, const PacketContext& context,
                    const RoutersByVrid& routers) {
  auto decoded = decode(message, context);
  if (decoded.reject != Reject::none) return {decoded.reject, {}};
  const RouterSlot& slot = routers[decoded.advert.vrid];
  if (!slot.params) return {Reject::unknown_vrid, {}};
  auto reject = filter_advert(decoded.advert, context, *slot.params, slot.local);
  if (reject != Reject::none) return {reject, {}};
  return {Reject::none, std::move(decoded.advert)};
}

}  // namespace pgvrrpd::vrrp
