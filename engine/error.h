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

}  // namespace duet

// DUET_CHECK(cond, pieces...) throws duet::Error with the pieces joined when cond is false.
#define DUET_CHECK(cond, ...)                   \
  do {                                          \
    if (!(cond)) ::duet::fail(__VA_ARGS__);     \
  } while (0)
