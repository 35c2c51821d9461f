// Key bookkeeping shared by the sections, and the checks of one
// [router NAME] section. Internal to the config parser.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vrrpd/config.h"
#include "vrrpd/config_ini.h"

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

struct CheckedRouter {
  RouterConfig router;  // defaults where a value was missing or wrong
  // interface, vrid and family are all valid, so the router can be compared
  // with the others for clashes.
  bool identity_known = false;
};

// Checks every key of a [router NAME] section and their combinations.
CheckedRouter check_router(const IniSection& section, std::string name,
                           std::string_view label, const Reporter& report);

}  // namespace pgvrrpd::config
