// parse_config(): any file an operator (or an attacker who can write one)
// gives. Every complaint names a line of the file; a config it accepts is
// printed by format_config() as text that parses to the same config.
#include <string_view>

#include "test/fuzz/fuzz_check.h"
#include "vrrpd/config/config.h"

using namespace pgvrrpd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ConfigResult parsed = parse_config(text, "fuzz.ini", {});
  size_t lines = 1;
  for (char c : text) lines += c == '\n';
  if (!parsed.ok()) {
    for (const ConfigError& e : parsed.errors) {
      FUZZ_CHECK(e.line >= 0);
      FUZZ_CHECK(static_cast<size_t>(e.line) <= lines);
      FUZZ_CHECK(!e.message.empty());
    }
    return 0;
  }
  std::string printed = format_config(parsed.config);
  ConfigResult again = parse_config(printed, "printed.ini", {});
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(format_config(again.config) == printed);
  return 0;
}
