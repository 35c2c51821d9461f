// parse_bytes(): a memory size as postgresql.conf writes it. What it reads
// is at most 2^62 bytes, and a bare number is read as itself.
#include <string_view>

#include "test/fuzz/fuzz_check.h"
#include "vrrpd/config/config_values.h"

using namespace pgvrrpd::config;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto bytes = parse_bytes(text);
  if (!bytes) return 0;
  FUZZ_CHECK(*bytes <= (uint64_t{1} << 62));
  bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
  if (digits && text.size() <= 18) {
    uint64_t value = 0;
    for (char c : text) value = value * 10 + static_cast<uint64_t>(c - '0');
    FUZZ_CHECK(*bytes == value);
  }
  return 0;
}
