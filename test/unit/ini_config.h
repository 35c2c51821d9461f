// Configs for the wiring tests, written as an operator would write them and
// parsed by the real parser, so the tests follow the config structs as they
// change.
#pragma once

#include <doctest/doctest.h>

#include <string_view>

#include "vrrpd/config/config.h"

namespace pgvrrpd::testing {

inline Config parse_ini(std::string_view text) {
  auto parsed = parse_config(text, "test.ini", {});
  for (const auto& e : parsed.errors) FAIL_CHECK(e.to_string());
  REQUIRE(parsed.ok());
  return std::move(parsed.config);
}

}  // namespace pgvrrpd::testing
