// parse_link_messages(): a datagram from a NETLINK_ROUTE socket, as the
// kernel (or anyone able to send to it) wrote it. It must stay inside the
// buffer, and what it reports must make sense.
#include "checkers/link_checker_linux.h"
#include "test/fuzz/fuzz_check.h"

using namespace pgvrrpd::checkers;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A copy of exactly `size` bytes, so ASan sees any read past the end.
  std::vector<uint8_t> datagram(data, data + size);
  auto events = parse_link_messages(datagram);
  // Every message takes at least a 16-byte header.
  FUZZ_CHECK(events.size() <= size / 16);
  for (const LinkEvent& e : events) {
    if (e.kind == LinkEvent::Kind::error) {
      FUZZ_CHECK(e.error > 0);
      FUZZ_CHECK(e.name.empty());
    }
    FUZZ_CHECK(e.name.size() < size);
  }
  return 0;
}
