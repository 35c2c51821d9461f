// Parsers for single config values: pure functions from the text after '='
// to a typed value. They never build messages; config.cc knows the key and
// says what was expected, so every message has one style.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vrrpd/basics/ip_address.h"

namespace pgvrrpd::config {

// A whole decimal number without sign, within [min, max].
std::optional<uint32_t> parse_uint(std::string_view text, uint32_t min, uint32_t max);

// A whole decimal number with an optional '+' or '-', within [min, max].
std::optional<int32_t> parse_int(std::string_view text, int32_t min, int32_t max);

// A byte count as PostgreSQL writes memory sizes: digits, optionally
// followed (spaces allowed) by a unit B, kB, MB, GB or TB, 1024-based and
// case-sensitive as in postgresql.conf. nullopt on anything else or above
// 2^62 bytes.
std::optional<uint64_t> parse_bytes(std::string_view text);

// A command line: words split on spaces and tabs; the first must be an
// absolute path. No quoting: a quote character is an error rather than
// being passed on literally to a surprised operator.
struct CommandResult {
  enum class Error { none, not_absolute, quote };
  Error error = Error::none;
  std::vector<std::string> argv;
};
CommandResult parse_command(std::string_view text);

// Environment variable names: [A-Za-z_][A-Za-z0-9_]*.
bool valid_env_name(std::string_view name);

// User names as useradd accepts them by default: 1..32 of [a-z0-9_-],
// starting with a letter or '_', optionally ending in '$'.
bool valid_user_name(std::string_view name);

// Decimal text such as "1", "0.25" or "40.950" read as an exact count of
// 1/10^decimals units, never through a float, so "0.1" is exactly 10
// centiseconds. `too_fine` is set when the text is a number but has non-zero
// digits beyond `decimals` (e.g. "0.015" with 2 decimals).
struct FixedPoint {
  std::optional<int64_t> units;  // nullopt: not a number (or too fine)
  bool too_fine = false;
};
FixedPoint parse_fixed(std::string_view text, int decimals);

// true/false, yes/no, on/off, 1/0, case-insensitively.
std::optional<bool> parse_bool(std::string_view text);

// "address" or "address/length". The errors are told apart so the message
// can say which half is wrong.
struct PrefixResult {
  enum class Error { none, bad_address, bad_length };
  Error error = Error::bad_address;
  IpPrefix prefix;
};
PrefixResult parse_prefix(std::string_view text);

// Linux interface names: 1..15 bytes (IFNAMSIZ - 1), no '/', ':' or
// whitespace, not "." or "..", as dev_valid_name() in the kernel demands.
bool valid_interface_name(std::string_view name);

// [router NAME]: 1..32 of [A-Za-z0-9_.-], so names are safe in logs, hook
// arguments and file names.
bool valid_router_name(std::string_view name);

// The candidate closest to `word` by edit distance when it is a plausible
// typo (distance <= 2, less than the word's length); empty otherwise.
std::string_view closest_match(std::string_view word,
                               const std::vector<std::string_view>& candidates);

}  // namespace pgvrrpd::config
