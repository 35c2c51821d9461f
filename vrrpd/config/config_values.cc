#include "vrrpd/config/config_values.h"

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

std::optional<int32_t> parse_int(std::string_view text, int32_t min, int32_t max) {
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  // Ten digits at most: the magnitude stays well inside int64.
  if (!all_digits(text) || text.size() > 10) return std::nullopt;
  int64_t value = 0;
  for (char c : text) value = value * 10 + (c - '0');
  if (negative) value = -value;
  if (value < min || value > max) return std::nullopt;
  return static_cast<int32_t>(value);
}

std::optional<uint64_t> parse_bytes(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && is_digit(text[digits])) ++digits;
  // Nineteen digits would overflow before the limit check.
  if (digits == 0 || digits > 18) return std::nullopt;
  uint64_t value = 0;
  for (char c : text.substr(0, digits)) value = value * 10 + static_cast<uint64_t>(c - '0');
  std::string_view unit = text.substr(digits);
  unit.remove_prefix(std::min(unit.find_first_not_of(" \t"), unit.size()));
  constexpr std::pair<std::string_view, int> kUnits[] = {
      {"", 0}, {"B", 0}, {"kB", 10}, {"MB", 20}, {"GB", 30}, {"TB", 40}};
  for (auto [name, shift] : kUnits) {
    if (unit != name) continue;
    constexpr uint64_t kMax = uint64_t{1} << 62;
    if (value > (kMax >> shift)) return std::nullopt;
    return value << shift;
  }
  return std::nullopt;
}

CommandResult parse_command(std::string_view text) {
  CommandResult result;
  if (text.find_first_of("\"'") != std::string_view::npos) {
    result.error = CommandResult::Error::quote;
    return result;
  }
  size_t pos = 0;
  while (true) {
    pos = text.find_first_not_of(" \t", pos);
    if (pos == std::string_view::npos) break;
    size_t end = text.find_first_of(" \t", pos);
    if (end == std::string_view::npos) end = text.size();
    result.argv.emplace_back(text.substr(pos, end - pos));
    pos = end;
  }
  if (result.argv.empty() || result.argv.front().front() != '/') {
    result.error = CommandResult::Error::not_absolute;
    result.argv.clear();
  }
  return result;
}

bool valid_env_name(std::string_view name) {
  if (name.empty() || is_digit(name.front())) return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_';
  });
}

bool valid_user_name(std::string_view name) {
  if (!name.empty() && name.back() == '$') name.remove_suffix(1);
  if (name.empty() || name.size() > 32) return false;
  if (!(std::islower(static_cast<unsigned char>(name.front())) || name.front() == '_'))
    return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::islower(c) || is_digit(static_cast<char>(c)) || c == '_' || c == '-';
  });
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
    // The distance is at least the difference in length: a candidate that
    // cannot be within 2 is skipped, and a long garbage key costs nothing
    // (edit_distance is quadratic; the fuzzer spent its time there).
    size_t longer = std::max(word.size(), candidate.size());
    if (longer - std::min(word.size(), candidate.size()) > 2) continue;
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
