#include "engine/profile.h"

#include <algorithm>
#include <exception>

#include "engine/device.h"
#include "engine/error.h"

namespace duet::profile {
namespace {
struct Current {
  Table* table = nullptr;
  bool synchronize = false;
  int depth = 0;  // timed pieces open on this thread
};
thread_local Current g_current;
}  // namespace

Entry& Table::at(const std::string& name, bool stage) {
  for (Entry& e : entries)
    if (e.name == name && e.stage == stage) return e;
  entries.push_back(Entry{name, stage});
  return entries.back();
}

double Table::timed_seconds() const {
  double s = 0;
  for (const Entry& e : entries) s += e.seconds();
  return s;
}

double Table::rest_seconds() const { return std::max(0.0, total_seconds - timed_seconds()); }

std::vector<Entry> Table::sorted() const {
  std::vector<Entry> out = entries;
  std::stable_sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) {
    return a.seconds() != b.seconds() ? a.seconds() > b.seconds() : a.name < b.name;
  });
  return out;
}

Recording::Recording(Table& table, bool synchronize) {
  DUET_CHECK(!g_current.table, "profile::Recording: a recording is already active on this thread");
  g_current = Current{&table, synchronize, 0};
}

Recording::~Recording() { g_current = Current{}; }

bool recording() { return g_current.table != nullptr; }

Scope::Scope(const char* name, Part part) : name_(name), part_(part) {
  if (!g_current.table) return;
  table_ = g_current.table;
  timing_ = g_current.depth++ == 0;
  if (!timing_) return;
  unwinding_ = std::uncaught_exceptions();
  if (g_current.synchronize) cuda::synchronize();  // the work queued before this piece is not its time
  start_ = std::chrono::steady_clock::now();
}

Scope::~Scope() noexcept(false) {
  if (!table_ || g_current.table != table_) return;
  --g_current.depth;
  // An exception on its way out: the piece did not finish, and waiting for the GPU could throw again.
  if (!timing_ || std::uncaught_exceptions() > unwinding_) return;
  if (g_current.synchronize) cuda::synchronize();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  Entry& e = table_->at(name_, part_ == Part::stage);
  if (part_ == Part::backward) {
    ++e.backward_calls;
    e.backward_seconds += s;
  } else {
    ++e.forward_calls;
    e.forward_seconds += s;
  }
}

}  // namespace duet::profile
