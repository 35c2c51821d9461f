// Config-time check that only root can change what a hook or exec check
// runs. The daemon runs as root and these programs run on every transition,
// so a script (or any directory above it) that another user can write is a
// root shell for that user.
//
// The rule is strict and easy to state: the program and every directory above
// it, following symlinks and checking both the path as written and the path
// it resolves to, must be owned by root and writable by nobody but root
// (group-writable is allowed only for group root). A sticky directory such as
// /tmp is refused too: stickiness stops others deleting root's file, not
// creating the path before root does, and the rule stays one sentence.
// Not executable, not a regular file, or not an absolute path: also refused.
#pragma once

#include <string>
#include <string_view>

#include "notify/command.h"
#include "vrrpd/basics/result.h"

namespace pgvrrpd::notify {

// Checks the program at `path` (stat and realpath on it and its ancestors;
// nothing else). The message names the offender, e.g.
// "directory /tmp is writable by others".
Status check_program_security(const std::string& path);

// Parses `text` (see command.h) and checks its program. `key` is the config
// key for the message: "on_master /tmp/x.sh: directory /tmp is writable by
// others".
Result<Command> check_command(std::string_view key, std::string_view text);

// The configuration file names the programs above: it must be a regular
// file that only root can change (owner root, not writable by group or
// others, no ACL). Its directories are not checked: tests and drafts live
// under /tmp; the file itself is what an attacker would edit.
Status check_config_file_security(const std::string& path);

}  // namespace pgvrrpd::notify
