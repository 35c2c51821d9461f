// JSON text, written in order (pgvrrpctl status --json). Keeps the commas
// and escaping right; the caller keeps the nesting balanced.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pgvrrpd {

class JsonWriter {
 public:
  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }
  // The key of the next value, inside an object.
  JsonWriter& key(std::string_view name);
  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(int64_t number);
  JsonWriter& value(uint64_t number);
  JsonWriter& value(int number) { return value(static_cast<int64_t>(number)); }
  JsonWriter& value(uint32_t number) { return value(static_cast<uint64_t>(number)); }
  JsonWriter& value(double number);  // non-finite: null
  JsonWriter& value(bool flag);
  JsonWriter& null();

  const std::string& text() const { return out_; }

 private:
  JsonWriter& open(char bracket);
  JsonWriter& close(char bracket);
  void before_value();

  std::string out_;
  std::vector<bool> first_;  // per open container: nothing in it yet
  bool after_key_ = false;
};

// `text` as a JSON string, quotes included.
std::string json_quote(std::string_view text);

}  // namespace pgvrrpd
