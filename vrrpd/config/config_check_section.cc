#include "vrrpd/config/config_check_section.h"

#include <fmt/format.h>

#include <memory>
#include <optional>

#include "vrrpd/config/config_values.h"

namespace pgvrrpd {

std::string_view check_type_name(CheckType type) {
  switch (type) {
    case CheckType::postgres: return "postgres";
    case CheckType::ping: return "ping";
    case CheckType::exec: return "exec";
  }
  return "?";
}

// A dead PostgreSQL is seen at once through its closed socket; the timeout
// only catches a server that hangs, and a busy primary that answers in 2 s
// must not be failed over. A LAN answers a ping in well under a millisecond.
// A script is given keepalived-like room.
Duration default_check_timeout(CheckType type) {
  switch (type) {
    case CheckType::postgres: return std::chrono::seconds(3);
    case CheckType::ping: return std::chrono::seconds(1);
    case CheckType::exec: return std::chrono::seconds(5);
  }
  return std::chrono::seconds(1);
}

// A dead database must count at once. A witness ping fences the database
// when it fails, so one lost packet must not be enough.
uint32_t default_check_fall(CheckType type) { return type == CheckType::ping ? 3 : 1; }

namespace config {
namespace {

constexpr KeyRule kCheckKeys[] = {
    {"type", false, true},       {"interval", false, false},
    {"timeout", false, false},   {"rise", false, false},
    {"fall", false, false},      {"effect", false, false},
    {"weight", false, false},    {"conninfo", false, false},
    {"peer_conninfo", false, false}, {"max_lag", false, false},
    {"target", false, false},    {"command", false, false},
};

// Which type each type-specific key belongs to, and whether it needs it.
struct TypeKey {
  std::string_view name;
  CheckType type;
  bool required;
};
constexpr TypeKey kTypeKeys[] = {
    {"conninfo", CheckType::postgres, true},
    {"peer_conninfo", CheckType::postgres, false},
    {"max_lag", CheckType::postgres, false},
    {"target", CheckType::ping, true},
    {"command", CheckType::exec, true},
};

std::optional<CheckType> parse_type(std::string_view text) {
  for (CheckType t : {CheckType::postgres, CheckType::ping, CheckType::exec})
    if (text == check_type_name(t)) return t;
  return std::nullopt;
}

// A misspelt keyword is a config error rather than a connection failure
// later.
bool validate_conninfo(const IniEntry& e, const ConfigValidators& validators,
                       const Reporter& report) {
  if (!validators.conninfo) return true;
  std::string problem = validators.conninfo(e.value);
  if (problem.empty()) return true;
  report(e.line, fmt::format("{} is not valid: {}", e.key, problem));
  return false;
}

void parse_target(const IniEntry& e, CheckConfig& check, const Reporter& report) {
  auto address = IpAddress::parse(e.value);
  if (!address)
    report(e.line, fmt::format("target must be an IPv4 or IPv6 address, got {}", e.value));
  else if (address->is_multicast() || address->is_unspecified())
    report(e.line, fmt::format("target must be a unicast address, got {}", e.value));
  else if (address->family() == Family::ipv6 && address->is_link_local())
    // It would need an interface to go with it.
    report(e.line, fmt::format("target must not be an IPv6 link-local address, got {}",
                               e.value));
  else
    check.target = address;
}

void parse_effect(const Keys& keys, CheckConfig& check, const Reporter& report) {
  const IniEntry* effect = first(keys, "effect");
  const IniEntry* weight = first(keys, "weight");
  std::optional<CheckEffect> value = CheckEffect::fault;
  if (effect != nullptr) {
    if (effect->value == "fault") {
      value = CheckEffect::fault;
    } else if (effect->value == "weight") {
      value = CheckEffect::weight;
    } else {
      report(effect->line, fmt::format("effect must be fault or weight, got {}", effect->value));
      value.reset();
    }
  }
  if (value) check.effect = *value;
  if (value == CheckEffect::weight && weight == nullptr)
    report(effect->line, "effect = weight needs a weight = -254..254 in the same section");
  if (weight == nullptr) return;
  if (value == CheckEffect::fault) {
    report(weight->line, "weight applies only with effect = weight");
    return;
  }
  auto parsed = parse_int(weight->value, -254, 254);
  if (!parsed)
    report(weight->line, fmt::format("weight must be -254..254, got {}", weight->value));
  else if (value)
    check.weight = *parsed;
}

void parse_type_specific_keys(const Keys& keys, const IniSection& section,
                              std::string_view label, CheckConfig& check,
                              std::optional<CheckType> type, const ConfigValidators& validators,
                              const Reporter& report) {
  for (const TypeKey& rule : kTypeKeys) {
    const IniEntry* e = first(keys, rule.name);
    // An unknown type was reported; guessing which keys it wanted would
    // only add noise.
    if (!type) continue;
    if (rule.type != *type) {
      if (e != nullptr)
        report(e->line, fmt::format("{} applies only to type {}, not {}", rule.name,
                                    check_type_name(rule.type), check_type_name(*type)));
      continue;
    }
    if (e == nullptr) {
      if (rule.required)
        report(section.line, fmt::format("missing key '{}' in {} (type {})", rule.name, label,
                                         check_type_name(*type)));
      continue;
    }
    if (rule.name == "conninfo") {
      if (validate_conninfo(*e, validators, report)) check.conninfo = e->value;
    } else if (rule.name == "peer_conninfo") {
      if (validate_conninfo(*e, validators, report)) check.peer_conninfo = e->value;
    } else if (rule.name == "max_lag") {
      if (auto bytes = parse_bytes(e->value))
        check.max_lag_bytes = bytes;
      else
        report(e->line, fmt::format("max_lag must be bytes, optionally with a unit B, kB, MB, "
                                    "GB or TB (1024-based), got {}",
                                    e->value));
    } else if (rule.name == "target") {
      parse_target(*e, check, report);
    } else if (rule.name == "command") {
      if (auto command = parse_command_key(*e, report)) check.command = *command;
    }
  }
}

}  // namespace

CheckConfig parse_check_section(const IniSection& section, std::string name,
                                std::string_view label, const ConfigValidators& validators,
                                const Reporter& report) {
  auto keys = collect_keys(section, kCheckKeys, label, report);
  CheckConfig check;
  check.line = section.line;
  check.name = std::move(name);

  std::optional<CheckType> type;
  if (const IniEntry* e = first(keys, "type")) {
    type = parse_type(e->value);
    if (!type)
      report(e->line, fmt::format("type must be postgres, ping or exec, got {}", e->value));
  }
  if (type) check.type = *type;
  check.timeout = default_check_timeout(check.type);
  check.fall = default_check_fall(check.type);

  // 10 ms is the finest a VRRP advert interval gets; a check faster than
  // that buys nothing.
  if (auto interval = parse_duration(keys, report, "interval", 10, 3600'000, "0.01..3600"))
    check.interval = *interval;
  if (auto timeout = parse_duration(keys, report, "timeout", 10, 3600'000, "0.01..3600"))
    check.timeout = *timeout;
  for (auto [key, field] : {std::pair{"rise", &check.rise}, std::pair{"fall", &check.fall}}) {
    const IniEntry* e = first(keys, key);
    if (e == nullptr) continue;
    if (auto value = parse_uint(e->value, 1, 1000))
      *field = *value;
    else
      report(e->line, fmt::format("{} must be 1..1000, got {}", key, e->value));
  }
  parse_effect(keys, check, report);
  parse_type_specific_keys(keys, section, label, check, type, validators, report);
  return check;
}

std::span<const KeyRule> check_key_rules() { return kCheckKeys; }

}  // namespace config
}  // namespace pgvrrpd
