// decode(): any bytes, any context. What it accepts must survive a round
// trip: encoding the advert again and decoding that gives the same advert.
#include <fuzzer/FuzzedDataProvider.h>

#include "test/fuzz/fuzz_check.h"
#include "test/fuzz/fuzz_packet_context.h"
#include "vrrpd/core/packet.h"

using namespace pgvrrpd;
using namespace pgvrrpd::vrrp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  PacketContext context = fuzz::packet_context(in);
  std::vector<uint8_t> message = in.ConsumeRemainingBytes<uint8_t>();
  Decoded decoded = decode(message, context);
  if (decoded.reject != Reject::none) return 0;
  const Advert& advert = decoded.advert;
  FUZZ_CHECK(advert.version == 2 || advert.version == 3);
  for (const IpAddress& a : advert.addresses) FUZZ_CHECK(a.family() == context.source.family());
  std::vector<uint8_t> again =
      encode(advert, context.source, context.destination, decoded.checksum_mode);
  FUZZ_CHECK(again.size() <= message.size());
  Decoded redecoded = decode(again, context);
  FUZZ_CHECK(redecoded.reject == Reject::none);
  FUZZ_CHECK(redecoded.advert == advert);
  return 0;
}
