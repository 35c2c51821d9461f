// read_ini(): the ini layer under parse_config. Lines it reports are lines of
// the text, in order; keys and section names come out trimmed.
#include <string_view>

#include "test/fuzz/fuzz_check.h"
#include "vrrpd/config/config_ini.h"

using namespace pgvrrpd::config;

namespace {
bool trimmed(const std::string& s) {
  return s.empty() || (s.front() != ' ' && s.front() != '\t' && s.back() != ' ' && s.back() != '\t');
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  IniFile ini = read_ini(text);
  int lines = 1;
  for (char c : text) lines += c == '\n';
  int last = 0;
  auto entry_ok = [&](const IniEntry& e) {
    FUZZ_CHECK(e.line >= 1 && e.line <= lines);
    FUZZ_CHECK(e.line >= last);
    last = e.line;
    FUZZ_CHECK(!e.key.empty());
    FUZZ_CHECK(trimmed(e.key) && trimmed(e.value));
  };
  for (const IniEntry& e : ini.outside) entry_ok(e);
  for (const IniSection& s : ini.sections) {
    FUZZ_CHECK(s.line >= 1 && s.line <= lines);
    FUZZ_CHECK(s.line >= last);
    last = s.line;
    FUZZ_CHECK(trimmed(s.name));
    for (const IniEntry& e : s.entries) entry_ok(e);
  }
  int last_error = 0;
  for (const IniError& e : ini.errors) {
    FUZZ_CHECK(e.line >= 1 && e.line <= lines);
    FUZZ_CHECK(e.line >= last_error);
    last_error = e.line;
  }
  return 0;
}
