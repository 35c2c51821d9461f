#include "vrrpd/config/config_ini.h"

#include <ini.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace pgvrrpd::config {
namespace {

// The installed inih is built without INI_HANDLER_LINENO and reports only
// the first bad line, so we feed it through our own reader. The reader counts
// lines, finds every syntax error itself (handing inih a blank line instead,
// so nothing is reported twice) and records section headers, which inih does
// not pass to the handler when a section is empty. inih still does the
// key/value split. The handler runs while inih works on the line the reader
// just returned, so `line` in the state is the handler's line too.
struct ReaderState {
  std::string_view text;
  size_t pos = 0;
  int line = 0;
  std::string key;  // key of the current line, unshortened by inih
  IniFile* out = nullptr;
};

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Cuts an inline comment: ';' preceded by whitespace, as inih does.
std::string_view strip_inline_comment(std::string_view s) {
  for (size_t i = 1; i < s.size(); ++i)
    if (s[i] == ';' && is_space(s[i - 1])) return trim(s.substr(0, i));
  return s;
}

void add_error(ReaderState& state, std::string message) {
  state.out->errors.push_back({state.line, std::move(message)});
}

// What the reader hands inih for one line; empty means a blank line.
std::string validate_line(ReaderState& state, std::string_view raw) {
  state.key.clear();
  if (raw.find('\0') != std::string_view::npos) {
    add_error(state, "syntax error: NUL byte in line");
    return {};
  }
  std::string_view text = trim(raw);
  if (text.empty() || text.front() == ';' || text.front() == '#') return {};
  text = strip_inline_comment(text);

  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) {
      add_error(state, "syntax error: missing ']' after '['");
      return {};
    }
    if (close + 1 != text.size()) {
      add_error(state, "syntax error: unexpected text after ']'");
      return {};
    }
    state.out->sections.push_back({state.line, std::string(trim(text.substr(1, close - 1))), {}});
    return std::string(text);
  }

  auto equals = text.find('=');
  if (equals == std::string_view::npos) {
    add_error(state, "syntax error: expected 'key = value', '[section]' or a comment");
    return {};
  }
  std::string_view key = trim(text.substr(0, equals));
  if (key.empty()) {
    add_error(state, "syntax error: missing key before '='");
    return {};
  }
  // inih also splits at ':'; no key of ours has one, so refuse it rather
  // than let "a:b = c" mean key "a".
  if (key.find(':') != std::string_view::npos) {
    add_error(state, "syntax error: expected 'key = value', '[section]' or a comment");
    return {};
  }
  state.key = key;
  return std::string(key) + "=" + std::string(trim(text.substr(equals + 1)));
}

char* read_line(char* str, int num, void* stream) {
  auto& state = *static_cast<ReaderState*>(stream);
  if (state.pos >= state.text.size()) return nullptr;
  auto end = state.text.find('\n', state.pos);
  if (end == std::string_view::npos) end = state.text.size();
  std::string_view raw = state.text.substr(state.pos, end - state.pos);
  state.pos = end + 1;
  ++state.line;
  if (state.line == 1 && raw.starts_with("\xEF\xBB\xBF")) raw.remove_prefix(3);

  std::string line = validate_line(state, raw);
  // inih reads into a fixed buffer of `num` bytes; a longer line would be
  // split and its tail read as a line of its own.
  if (line.size() + 2 > static_cast<size_t>(num)) {
    add_error(state, "line too long: at most " + std::to_string(num - 2) +
                         " characters, not counting a comment");
    if (!state.out->sections.empty() && state.out->sections.back().line == state.line)
      state.out->sections.pop_back();
    state.key.clear();
    line.clear();
  }
  std::memcpy(str, line.data(), line.size());
  str[line.size()] = '\0';
  return str;
}

int on_value(void* user, const char* /*section*/, const char* /*name*/, const char* value) {
  auto& state = *static_cast<ReaderState*>(user);
  IniEntry entry{state.line, state.key, value};
  if (state.out->sections.empty())
    state.out->outside.push_back(std::move(entry));
  else
    state.out->sections.back().entries.push_back(std::move(entry));
  return 1;
}

}  // namespace

IniFile read_ini(std::string_view text) {
  IniFile out;
  ReaderState state;
  state.text = text;
  state.out = &out;
  int rc = ini_parse_stream(read_line, &state, on_value, &state);
  // The reader should have caught every syntax error; report anything inih
  // still refused, once.
  if (rc > 0 && std::none_of(out.errors.begin(), out.errors.end(),
                             [rc](const IniError& e) { return e.line == rc; }))
    out.errors.push_back({rc, "syntax error"});
  else if (rc < 0)
    out.errors.push_back({0, "cannot parse: out of memory"});
  std::stable_sort(out.errors.begin(), out.errors.end(),
                   [](const IniError& a, const IniError& b) { return a.line < b.line; });
  return out;
}

}  // namespace pgvrrpd::config
