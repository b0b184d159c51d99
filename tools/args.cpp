#include "tools/args.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "engine/error.h"

namespace duet::cli {

namespace {

// Levenshtein distance: the fewest single-character insertions, deletions and substitutions
// that turn a into b.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// " (did you mean --NAME?)" for the known name nearest a mistyped one, when it is a plausible
// typo (at most two edits, and fewer than half the known name's letters); otherwise "".
std::string suggestion(const std::string& name, const std::set<std::string>& options,
                       const std::set<std::string>& switches) {
  std::string best;
  size_t best_distance = 3;
  for (const auto* known : {&options, &switches})
    for (const std::string& k : *known) {
      const size_t d = edit_distance(name, k);
      if (d < best_distance && 2 * d < k.size()) best_distance = d, best = k;
    }
  return best.empty() ? "" : " (did you mean --" + best + "?)";
}

}  // namespace

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& options,
           const std::set<std::string>& switches, const std::string& command)
    : command_(command) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.size() > 2 && a.rfind("--", 0) == 0) {
      std::string name = a.substr(2), value;
      bool inline_value = false;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        inline_value = true;
      }
      if (switches.count(name)) {
        DUET_CHECK(!inline_value, command_, ": --", name, " takes no value");
        switches_.insert(name);
      } else if (options.count(name)) {
        if (!inline_value) {
          DUET_CHECK(i + 1 < argv.size(), command_, ": --", name, " needs a value");
          value = argv[++i];
        }
        values_[name] = value;
      } else {
        fail(command_, ": unknown option --", name, suggestion(name, options, switches), " (see 'duet ", command_,
             " --help')");
      }
    } else if (a == "-o") {
      DUET_CHECK(i + 1 < argv.size(), command_, ": -o needs a value");
      DUET_CHECK(options.count("out"), command_, ": unknown option -o");
      values_["out"] = argv[++i];
    } else {
      positional_.push_back(a);
    }
  }
}

std::string Args::str(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

int64_t Args::integer(const std::string& name, int64_t fallback, int64_t min, int64_t max) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(it->second.c_str(), &end, 10);
  DUET_CHECK(!it->second.empty() && *end == '\0' && errno == 0, command_, ": --", name,
             " expects an integer, got '", it->second, "'");
  DUET_CHECK(v >= min && v <= max, command_, ": --", name, " must be in [", min, ", ", max, "], got ", v);
  return v;
}

double Args::number(const std::string& name, double fallback, double min, double max) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  char* end = nullptr;
  double v = std::strtod(it->second.c_str(), &end);
  DUET_CHECK(!it->second.empty() && *end == '\0' && std::isfinite(v), command_, ": --", name,
             " expects a number, got '", it->second, "'");
  DUET_CHECK(v >= min && v <= max, command_, ": --", name, " must be in [", min, ", ", max, "], got ", v);
  return v;
}

std::vector<std::string> Args::given() const {
  std::set<std::string> names(switches_);
  for (const auto& [name, value] : values_) names.insert(name);
  return {names.begin(), names.end()};
}

}  // namespace duet::cli
