#include "vrrpd/config_values.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <string>

namespace pgvrrpd::config {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), is_digit);
}

}  // namespace

std::optional<uint32_t> parse_uint(std::string_view text, uint32_t min, uint32_t max) {
  // from_chars alone would accept a leading '-' and stop at garbage; demand
  // digits only so "10s" or "+1" are errors rather than surprises.
  if (!all_digits(text)) return std::nullopt;
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value < min || value > max) return std::nullopt;
  return value;
}

FixedPoint parse_fixed(std::string_view text, int decimals) {
  FixedPoint result;
  auto dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view fraction =
      dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  // "1." and ".5" are refused: a value should read the same to a human.
  if (!all_digits(whole)) return result;
  if (dot != std::string_view::npos && !all_digits(fraction)) return result;
  // Nine whole digits keep units within int64 for any sensible `decimals`.
  if (whole.size() > 9) return result;

  int64_t units = 0;
  for (char c : whole) units = units * 10 + (c - '0');
  for (int i = 0; i < decimals; ++i) {
    units *= 10;
    if (static_cast<size_t>(i) < fraction.size()) units += fraction[i] - '0';
  }
  // Digits past the resolution are fine as long as they are zeros ("0.010").
  if (fraction.size() > static_cast<size_t>(decimals) &&
      fraction.substr(decimals).find_first_not_of('0') != std::string_view::npos) {
    result.too_fine = true;
    return result;
  }
  result.units = units;
  return result;
}

std::optional<bool> parse_bool(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "true" || lower == "yes" || lower == "on" || lower == "1") return true;
  if (lower == "false" || lower == "no" || lower == "off" || lower == "0") return false;
  return std::nullopt;
}

PrefixResult parse_prefix(std::string_view text) {
  PrefixResult result;
  auto slash = text.find('/');
  auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) return result;
  result.prefix.address = *address;
  uint32_t max = address->family() == Family::ipv4 ? 32 : 128;
  if (slash == std::string_view::npos) {
    result.prefix.length = static_cast<uint8_t>(max);
    result.error = PrefixResult::Error::none;
    return result;
  }
  // A /0 address would claim every destination on the link: never meant.
  auto length = parse_uint(text.substr(slash + 1), 1, max);
  if (!length) {
    result.error = PrefixResult::Error::bad_length;
    return result;
  }
  result.prefix.length = static_cast<uint8_t>(*length);
  result.error = PrefixResult::Error::none;
  return result;
}

bool valid_interface_name(std::string_view name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  return std::none_of(name.begin(), name.end(), [](unsigned char c) {
    return c == '/' || c == ':' || std::isspace(c) || !std::isprint(c);
  });
}

bool valid_router_name(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '.' || c == '-';
  });
}

namespace {

// Levenshtein distance; keys are short, so the O(n*m) table is fine.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string_view closest_match(std::string_view word,
                               const std::vector<std::string_view>& candidates) {
  std::string_view best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (auto candidate : candidates) {
    size_t d = edit_distance(word, candidate);
    if (d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  if (best_distance > 2 || best_distance >= word.size()) return {};
  return best;
}

}  // namespace pgvrrpd::config
