// Errors in duet are exceptions whose message names the value, what was expected and,
// where there is one, the file. The CLI turns them into one line on stderr and exit 1.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace duet {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {
inline void append(std::ostringstream&) {}
template <class T, class... R>
void append(std::ostringstream& os, const T& v, const R&... rest) {
  os << v;
  append(os, rest...);
}
}  // namespace detail

// Builds a message from any streamable pieces: fail("expected 3 dims, got ", n).
template <class... A>
[[noreturn]] void fail(const A&... parts) {
  std::ostringstream os;
  detail::append(os, parts...);
  throw Error(os.str());
}

// Text from outside (a damaged file's bytes, a file name) made fit for a one-line message:
// control characters (newline, escape, ...) as \xNN; everything else, UTF-8 included, kept.
inline std::string printable(const std::string& text) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != 0x7f) {
      out += ch;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace duet

// DUET_CHECK(cond, pieces...) throws duet::Error with the pieces joined when cond is false.
#define DUET_CHECK(cond, ...)                   \
  do {                                          \
    if (!(cond)) ::duet::fail(__VA_ARGS__);     \
  } while (0)
