// parse_fixed(): "0.1" as exactly 10 centiseconds. Checked against a
// reference that reads plain decimals digit by digit.
#include <fuzzer/FuzzedDataProvider.h>

#include <optional>
#include <string>

#include "test/fuzz/fuzz_check.h"
#include "vrrpd/config/config_values.h"

using namespace pgvrrpd::config;

namespace {

// "D+" or "D+.D+" with no more than `decimals` significant fraction digits,
// small enough not to overflow: the value in 1/10^decimals units.
std::optional<int64_t> reference(const std::string& text, int decimals) {
  size_t dot = text.find('.');
  std::string whole = text.substr(0, dot);
  std::string fraction = dot == std::string::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 9) return std::nullopt;
  if (dot != std::string::npos && fraction.empty()) return std::nullopt;  // "1." is refused
  for (char c : whole + fraction)
    if (c < '0' || c > '9') return std::nullopt;
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  if (static_cast<int>(fraction.size()) > decimals) return std::nullopt;
  int64_t units = std::stoll(whole);
  for (int i = 0; i < decimals; ++i)
    units = units * 10 + (i < static_cast<int>(fraction.size()) ? fraction[i] - '0' : 0);
  return units;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  int decimals = in.ConsumeIntegralInRange(0, 6);
  std::string text = in.ConsumeRemainingBytesAsString();
  FixedPoint parsed = parse_fixed(text, decimals);
  if (parsed.too_fine) FUZZ_CHECK(!parsed.units);
  auto expected = reference(text, decimals);
  if (expected) FUZZ_CHECK(parsed.units && *parsed.units == *expected);
  if (parsed.units) FUZZ_CHECK(*parsed.units >= 0);
  return 0;
}
