// The checks of one [check NAME] section. Internal to the config parser.
#pragma once

#include <string>
#include <string_view>

#include "vrrpd/config.h"
#include "vrrpd/config_ini.h"
#include "vrrpd/config_router.h"

namespace pgvrrpd::config {

// Checks every key of a [check NAME] section against its type; defaults
// where a value was missing or wrong.
CheckConfig check_check(const IniSection& section, std::string name, std::string_view label,
                        const Reporter& report);

}  // namespace pgvrrpd::config
