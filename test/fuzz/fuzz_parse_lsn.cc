// parse_lsn(): text from a server. What it reads, format_lsn() writes back
// in a form it reads the same.
#include <string_view>

#include "checkers/pg_facts.h"
#include "test/fuzz/fuzz_check.h"

using namespace pgvrrpd::checkers;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto lsn = parse_lsn(text);
  if (!lsn) return 0;
  FUZZ_CHECK(text.find('/') != std::string_view::npos);
  auto again = parse_lsn(format_lsn(*lsn));
  FUZZ_CHECK(again && *again == *lsn);
  return 0;
}
