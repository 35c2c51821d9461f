// The checks of one [check NAME] section. Internal to the config parser.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "vrrpd/config/config.h"
#include "vrrpd/config/config_ini.h"
#include "vrrpd/config/config_router.h"

namespace pgvrrpd::config {

// The keys a [check NAME] section accepts (of every type).
std::span<const KeyRule> check_key_rules();

// Checks every key of a [check NAME] section against its type; defaults
// where a value was missing or wrong.
CheckConfig parse_check_section(const IniSection& section, std::string name,
                                std::string_view label, const ConfigValidators& validators,
                                const Reporter& report);

}  // namespace pgvrrpd::config
