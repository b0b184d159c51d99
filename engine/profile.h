// Per-op timings of a training step: what `duet train --profile` prints.
//
// While a Recording is alive on a thread, every op of functional.cpp adds the wall time of
// its forward (argument checks, output allocation, the computation, the tape entry) and every
// tape node the time of its backward rule to a Table, by op name; the trainer adds stages of
// its own (the batch, the optimizer, the metrics). Only the outermost timed piece counts: an
// op that calls another op (flatten calls reshape), or ops inside a stage, are one entry.
// Without a Recording a Scope costs one thread-local read.
//
// On a GPU the ops only queue kernels, so a Recording made with `synchronize` waits for the
// stream before and after each timed piece: the times then are what each op costs the GPU
// (launch latency included) and add up to the step, and the profiled training runs slower.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace duet::profile {

enum class Part { forward, backward, stage };

struct Entry {
  std::string name;
  bool stage = false;  // a stage of the step (the trainer's), not an op
  int64_t forward_calls = 0, backward_calls = 0;
  double forward_seconds = 0, backward_seconds = 0;
  double seconds() const { return forward_seconds + backward_seconds; }
};

struct Table {
  std::vector<Entry> entries;  // in the order first seen
  double total_seconds = 0;    // wall time of the timed steps, set by whoever times them
  int64_t steps = 0;
  Entry& at(const std::string& name, bool stage);
  double timed_seconds() const;  // the sum over the entries
  double rest_seconds() const;   // the steps' time outside every entry (0 at least)
  // Entries by time, longest first (ties by name), for reports.
  std::vector<Entry> sorted() const;
};

// Makes `table` the current thread's table while alive (Recordings do not nest).
class Recording {
 public:
  Recording(Table& table, bool synchronize);
  ~Recording();
  Recording(const Recording&) = delete;
  Recording& operator=(const Recording&) = delete;
};

bool recording();  // whether the current thread records

// Times one op's forward or backward, or one stage, into the current table (if any).
class Scope {
 public:
  Scope(const char* name, Part part);
  ~Scope() noexcept(false);  // on a GPU it waits for the stream, which reports a failed kernel
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  const char* name_;
  Part part_;
  Table* table_ = nullptr;  // the recording's table when it opened (it raised the depth)
  bool timing_ = false;     // the outermost piece: it adds its time
  int unwinding_ = 0;       // exceptions in flight when it opened
  std::chrono::steady_clock::time_point start_;
};

}  // namespace duet::profile
