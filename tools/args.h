// A small command-line parser: `--name value`, `--name=value`, `--switch`, positionals.
// Unknown flags, missing values and malformed numbers are errors naming the flag.
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace duet::cli {

class Args {
 public:
  // `options` take a value, `switches` do not; anything else starting with "--" is an error.
  Args(const std::vector<std::string>& argv, const std::set<std::string>& options,
       const std::set<std::string>& switches, const std::string& command);

  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::string str(const std::string& name, const std::string& fallback) const;
  int64_t integer(const std::string& name, int64_t fallback, int64_t min, int64_t max) const;
  double number(const std::string& name, double fallback, double min, double max) const;
  bool flag(const std::string& name) const { return switches_.count(name) > 0; }
  const std::vector<std::string>& positional() const { return positional_; }
  // The names of every option and switch given, in alphabetical order.
  std::vector<std::string> given() const;

 private:
  std::string command_;
  std::map<std::string, std::string> values_;
  std::set<std::string> switches_;
  std::vector<std::string> positional_;
};

}  // namespace duet::cli
