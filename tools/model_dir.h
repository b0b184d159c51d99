// A trained model on disk: DIR/config.json (architecture, input pipeline, normalisation,
// how it was trained, final results) and DIR/model.safetensors (the weights).
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "models/task.h"

namespace duet::cli {

void save_model_dir(const std::string& dir, models::Task& task, const nlohmann::json& extra);
nlohmann::json read_config(const std::string& dir);  // throws naming the file when missing/corrupt

// Rebuilds the task a model directory describes, with its weights loaded, on `device`.
// With data_dir (non-empty) the test set is loaded too (split from the config unless
// `split` overrides it); without, only single inputs can be fed (predict).
std::unique_ptr<models::Task> load_model_dir(const std::string& dir, Device device, const std::string& data_dir,
                                             const std::string& split = "");

}  // namespace duet::cli
