// Training outputs: metrics.csv, curves.png, confusion.png, per-class accuracy.
#pragma once
#include <array>
#include <string>
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

}  // namespace duet::cli
