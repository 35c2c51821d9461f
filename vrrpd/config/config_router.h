// Key bookkeeping shared by the sections, and the checks of one
// [router NAME] section. Internal to the config parser.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vrrpd/config/config.h"
#include "vrrpd/config/config_ini.h"

namespace pgvrrpd::config {

// Collects errors in one style: file:line: message.
struct Reporter {
  std::string file;
  std::vector<ConfigError>& out;
  void operator()(int line, std::string message) const {
    out.push_back({file, line, std::move(message)});
  }
};

struct KeyRule {
  std::string_view name;
  bool repeatable;
  bool required;
};

// The section's entries by key, in file order. Reports unknown keys (with a
// "did you mean"), empty values, repeats of a non-repeatable key and missing
// required keys (at the section's header line); such entries are left out.
using Keys = std::map<std::string_view, std::vector<const IniEntry*>>;
Keys collect_keys(const IniSection& section, std::span<const KeyRule> rules,
                  std::string_view label, const Reporter& report);

// The entry for a non-repeatable key, or nullptr when absent.
const IniEntry* first(const Keys& keys, std::string_view name);

// A duration in seconds with millisecond resolution within [min_ms, max_ms];
// `range` is how the message spells the bounds ("0.01..3600"). nullopt when
// absent or wrong (reported).
std::optional<Duration> parse_duration(const Keys& keys, const Reporter& report,
                                       std::string_view key, int64_t min_ms, int64_t max_ms,
                                       std::string_view range);

// A command line for `key` (see parse_command()); nullopt when wrong
// (reported).
std::optional<CommandConfig> parse_command_key(const IniEntry& entry, const Reporter& report);

// A `track = a, b` line as written, resolved against the [check] sections
// once the whole file has been read.
struct TrackRef {
  int line = 0;
  std::string name;
};

struct CheckedRouter {
  RouterConfig router;  // defaults where a value was missing or wrong
  std::vector<TrackRef> track;  // well-formed names, unresolved
  // interface, vrid and family are all valid, so the router can be compared
  // with the others for clashes.
  bool identity_known = false;
};

// The keys a [router NAME] section accepts.
std::span<const KeyRule> router_key_rules();

// Checks every key of a [router NAME] section and their combinations.
CheckedRouter parse_router_section(const IniSection& section, std::string name,
                           std::string_view label, const Reporter& report);

}  // namespace pgvrrpd::config
