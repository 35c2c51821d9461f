// The ini layer of the config parser: text -> sections of (line, key, value)
// entries plus syntax errors, every one with its line. It knows nothing of
// pgvrrpd's keys; config.cc gives the entries their meaning.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pgvrrpd::config {

struct IniEntry {
  int line = 0;
  std::string key;
  std::string value;  // whitespace and an inline "; comment" removed
};

struct IniSection {
  int line = 0;      // line of the "[...]" header
  std::string name;  // text between the brackets, trimmed
  std::vector<IniEntry> entries;
};

struct IniError {
  int line = 0;
  std::string message;
};

struct IniFile {
  std::vector<IniEntry> outside;  // key = value lines before any section
  std::vector<IniSection> sections;
  std::vector<IniError> errors;  // syntax errors, in line order
};

// Splits `text` with inih. Comments start a line with ';' or '#'; an inline
// comment is ';' after whitespace (inih's defaults). Continuation lines are
// not supported: leading whitespace is ignored, so indenting is harmless.
IniFile read_ini(std::string_view text);

}  // namespace pgvrrpd::config
