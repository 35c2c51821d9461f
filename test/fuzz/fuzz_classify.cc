// classify(): the whole receive path, against a table of routers the input
// configures. What it accepts is for a configured VRID of the packet's
// family and version, from an allowed source, and never our own packet.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <deque>

#include "test/fuzz/fuzz_check.h"
#include "test/fuzz/fuzz_packet_context.h"
#include "vrrpd/core/receive_filter.h"

using namespace pgvrrpd;
using namespace pgvrrpd::vrrp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  PacketContext context = fuzz::packet_context(in);
  Family family = context.source.family();
  // Up to three routers; their addresses are drawn from a small pool that
  // includes the packet's source, so that peers and VIPs sometimes match.
  std::deque<RouterParams> params;  // stable addresses for RouterSlot
  RoutersByVrid routers{};
  int count = in.ConsumeIntegralInRange(0, 3);
  auto pick_address = [&]() {
    return in.ConsumeBool() ? context.source : fuzz::address(in, family);
  };
  for (int i = 0; i < count; ++i) {
    RouterParams& p = params.emplace_back();
    p.vrid = in.ConsumeIntegral<uint8_t>();
    p.family = family;
    p.version = family == Family::ipv6 || in.ConsumeBool() ? 3 : 2;
    p.priority = in.ConsumeIntegralInRange<uint8_t>(1, 255);
    p.advert_interval = Centiseconds(in.ConsumeIntegralInRange(1, 4095));
    if (p.version == 2) p.advert_interval = Centiseconds(100 * in.ConsumeIntegralInRange(1, 255));
    int vips = in.ConsumeIntegralInRange(1, 4);
    for (int v = 0; v < vips; ++v)
      p.virtual_ips.push_back({pick_address(), static_cast<uint8_t>(family == Family::ipv4 ? 24 : 64)});
    if (in.ConsumeBool()) p.unicast_peers.push_back(pick_address());
    if (in.ConsumeBool()) p.peers.push_back(pick_address());
    p.unicast_ttl_check = in.ConsumeBool();
    p.auth_type = p.version == 2 ? in.ConsumeIntegralInRange<uint8_t>(0, 1) : 0;
    routers[p.vrid] = RouterSlot{&p, pick_address()};
  }
  std::vector<uint8_t> message = in.ConsumeRemainingBytes<uint8_t>();
  Classified c = classify(message, context, routers);
  if (c.reject != Reject::none) return 0;
  const RouterSlot& slot = routers[c.advert.vrid];
  FUZZ_CHECK(slot.params != nullptr);
  FUZZ_CHECK(c.advert.version == slot.params->version);
  FUZZ_CHECK(context.source != slot.local);
  if (c.advert.priority != kOwnerPriority) {
    FUZZ_CHECK(c.advert.addresses.size() == slot.params->virtual_ips.size());
    for (const auto& vip : slot.params->virtual_ips)
      FUZZ_CHECK(std::find(c.advert.addresses.begin(), c.advert.addresses.end(), vip.address) !=
                 c.advert.addresses.end());
  }
  FUZZ_CHECK(slot.params->priority != kOwnerPriority);
  if (slot.params->unicast_peers.empty())
    FUZZ_CHECK(context.destination == vrrp_multicast_group(family));
  if (!slot.params->unicast_peers.empty() || !slot.params->peers.empty()) {
    bool listed = std::find(slot.params->unicast_peers.begin(), slot.params->unicast_peers.end(),
                            context.source) != slot.params->unicast_peers.end() ||
                  std::find(slot.params->peers.begin(), slot.params->peers.end(),
                            context.source) != slot.params->peers.end();
    FUZZ_CHECK(listed);
  }
  if (slot.params->unicast_peers.empty() || slot.params->unicast_ttl_check)
    FUZZ_CHECK(context.ttl == kRequiredTtl);
  return 0;
}
