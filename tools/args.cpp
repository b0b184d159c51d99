#include "tools/args.h"

#include <cmath>
#include <cstdlib>

#include "engine/error.h"

namespace duet::cli {

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
        fail(command_, ": unknown option --", name, " (see 'duet ", command_, " --help')");
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

}  // namespace duet::cli
