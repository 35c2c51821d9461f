// parse_ipv4(): a raw socket's datagram. What it returns points inside the
// input, and the header it read is one the input holds.
#include "test/fuzz/fuzz_check.h"
#include "vrrpd/core/packet.h"

using namespace pgvrrpd::vrrp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> datagram(data, size);
  auto parsed = parse_ipv4(datagram);
  if (!parsed) return 0;
  FUZZ_CHECK(size >= 20);
  FUZZ_CHECK(parsed->payload.data() >= data);
  FUZZ_CHECK(parsed->payload.data() + parsed->payload.size() <= data + size);
  FUZZ_CHECK(parsed->protocol == data[9]);
  FUZZ_CHECK(parsed->context.ttl == data[8]);
  // The payload follows the header, whose length the datagram states.
  FUZZ_CHECK(parsed->payload.data() == data + (data[0] & 0x0f) * 4);
  return 0;
}
