// is_echo_reply(): whatever a raw ICMP socket hands us. It must not read
// past the packet, and it must never take a packet for the reply to an echo
// whose identifier, sequence or cookie the packet does not carry.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>

#include "checkers/ping_packet.h"
#include "test/fuzz/fuzz_check.h"

using namespace pgvrrpd;
using namespace pgvrrpd::checkers;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  Family family = in.ConsumeBool() ? Family::ipv6 : Family::ipv4;
  EchoId id;
  id.identifier = in.ConsumeIntegral<uint16_t>();
  id.sequence = in.ConsumeIntegral<uint16_t>();
  for (auto& b : id.cookie) b = in.ConsumeIntegral<uint8_t>();
  std::vector<uint8_t> packet = in.ConsumeRemainingBytes<uint8_t>();
  if (!is_echo_reply(family, packet, id)) return 0;
  // The ICMP message: after the IPv4 header, or the whole packet for IPv6.
  size_t at = family == Family::ipv4 ? (packet.at(0) & 0x0f) * 4 : 0;
  FUZZ_CHECK(packet.size() >= at + 8 + id.cookie.size());
  FUZZ_CHECK(packet[at] == (family == Family::ipv4 ? 0 : 129));
  FUZZ_CHECK((packet[at + 4] << 8 | packet[at + 5]) == id.identifier);
  FUZZ_CHECK((packet[at + 6] << 8 | packet[at + 7]) == id.sequence);
  FUZZ_CHECK(std::equal(id.cookie.begin(), id.cookie.end(), packet.begin() + at + 8));
  return 0;
}
