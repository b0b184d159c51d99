// Training outputs: metrics.csv, curves.png, confusion.png, per-class accuracy.
#pragma once
#include <array>
#include <iosfwd>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "models/trainer.h"

namespace duet::cli {

void write_metrics_csv(const std::string& path, const std::vector<models::EpochStats>& history);
// Loss and accuracy against epoch, train and test, side by side (like the course's figure).
void draw_curves(const std::string& path, const std::vector<models::EpochStats>& history, const std::string& title);
void draw_confusion(const std::string& path, const std::array<std::array<int64_t, 10>, 10>& confusion,
                    const std::string& title);
std::array<double, 10> per_class_accuracy(const std::array<std::array<int64_t, 10>, 10>& confusion);
void print_per_class(const std::array<std::array<int64_t, 10>, 10>& confusion);

// (correct, total) per test group (audio: per speaker) of an evaluation of `task`'s test set;
// empty when the task has no groups.
std::map<std::string, std::pair<int64_t, int64_t>> per_group_counts(const models::Task& task,
                                                                    const models::EvalResult& r);
// "per-speaker accuracy:  george: 97.0% (129) ..." on stdout (`label` before the colon);
// nothing when there are no groups.
void print_per_group(const std::map<std::string, std::pair<int64_t, int64_t>>& groups,
                     const char* label = "per-speaker accuracy");
// A text as one CSV field: quoted (quotes doubled) when it holds a comma, a quote or a newline.
std::string csv_field(const std::string& s);
// The misclassified test examples, most confident first:
// example,group,truth,prediction,confidence,truth_probability. Returns how many.
int64_t write_errors_csv(const std::string& path, const models::Task& task, const models::EvalResult& r);
// The class-probability columns of predictions.csv and inputs.csv: ",p0,...,p9" for the
// header, ",%.6f" ten times for a row (p points to 10 probabilities).
void write_probability_header(std::ostream& f);
void write_probabilities(std::ostream& f, const float* p);
// duet train --profile: the per-op table of the training steps on stdout (per step: calls,
// forward, backward and total milliseconds, share of the steps' time; ops longest first, then
// the trainer's stages in brackets, the rest and the steps) and the same rows in a CSV file:
// name,kind,forward_calls,forward_seconds,backward_calls,backward_seconds,seconds,share with
// kind op, stage, rest (the steps' time outside every timed piece) or steps (the total).
void print_profile(const profile::Table& table, const std::string& where);
void write_profile_csv(const std::string& path, const profile::Table& table);
// Every test example, in test-set order: example,group,truth,prediction,p0,...,p9 (the class
// probabilities), for analyses outside duet (calibration, ensembles of several models).
void write_predictions_csv(const std::string& path, const models::Task& task, const models::EvalResult& r);

}  // namespace duet::cli
