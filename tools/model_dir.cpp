#include "tools/model_dir.h"

#include <filesystem>
#include <fstream>

#include "engine/checkpoint.h"
#include "engine/error.h"
#include "models/datasets.h"
#include "models/fusion.h"
#include "models/networks.h"
#include "tools/common.h"

namespace fs = std::filesystem;

namespace duet::cli {

void save_model_dir(const std::string& dir, models::Task& task, const nlohmann::json& extra) {
  make_output_folder(dir);
  nlohmann::json c = task.config();
  for (auto& [k, v] : extra.items()) c[k] = v;
  c["format"] = "duet-model-1";
  save_parameters(dir + "/model.safetensors", task.params(), {{"format", "duet-model-1"}, {"arch", c.value("arch", "")}});
  const std::string path = dir + "/config.json", tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    DUET_CHECK(f, tmp, ": cannot open for writing");
    f << c.dump(2) << '\n';
    DUET_CHECK(f.good(), tmp, ": write failed");
  }
  fs::rename(tmp, path);
}

nlohmann::json read_config(const std::string& dir) {
  DUET_CHECK(!fs::exists(dir) || fs::is_directory(dir), "model folder '", dir, "' is a file, not a folder");
  DUET_CHECK(fs::is_directory(dir), "model folder '", dir, "' does not exist");
  const std::string path = dir + "/config.json";
  DUET_CHECK(fs::exists(path) || !fs::exists(dir + "/run.json"), dir, ": the training in this folder has not ",
             "finished (no model yet); duet train --resume ", dir, " finishes it");
  std::ifstream f(path);
  DUET_CHECK(f, path, ": missing (is '", dir, "' a folder written by duet train?)");
  nlohmann::json c;
  try {
    f >> c;
  } catch (const std::exception& e) {
    fail(path, ": not valid JSON (", e.what(), ")");
  }
  DUET_CHECK(c.is_object() && c.value("format", "") == "duet-model-1" && c.contains("model") && c.contains("arch"), path,
             ": not a duet model configuration");
  const std::string model = c.value("model", ""), arch = c.value("arch", "");
  DUET_CHECK((model != "audio" && model != "image") || models::known_architecture(arch), path,
             ": unknown architecture '", arch, "' (known: ", models::architecture_names(model + ":"), ")");
  DUET_CHECK(fs::is_regular_file(dir + "/model.safetensors"), dir, "/model.safetensors: missing");
  return c;
}

std::unique_ptr<models::Task> load_model_dir(const std::string& dir, Device device, const std::string& data_dir,
                                             const std::string& split) {
  nlohmann::json c = read_config(dir);
  const std::string model = c.at("model");
  std::unique_ptr<models::Task> task;
  try {
    if (model == "image") {
      DUET_CHECK(split.empty() || split == "mnist", "--split applies to audio and fusion models");
      if (!data_dir.empty()) {
        data::Mnist test = data::load_mnist(data_dir, "test");
        task = std::make_unique<models::ImageTask>(c, &test);
      } else {
        task = std::make_unique<models::ImageTask>(c, nullptr);
      }
    } else if (model == "audio" || model == "fusion") {
      std::unique_ptr<data::Fsdd> ds;
      data::Split s;
      if (!data_dir.empty()) {
        ds = std::make_unique<data::Fsdd>(data::load_fsdd(data_dir));
        const auto& d = c.at("data");
        const std::string spec = split.empty() ? d.at("split").get<std::string>() : split;
        s = data::make_split(*ds, spec, d.value("test_fraction", 0.25), d.value("seed", uint64_t(0)));
      }
      if (model == "audio") task = std::make_unique<models::AudioTask>(c, ds.get(), s.test);
      else task = models::load_fusion_task(c, ds.get(), s, data_dir);
    } else {
      fail(dir, "/config.json: unknown model kind '", model, "'");
    }
  } catch (const nlohmann::json::exception& e) {
    fail(dir, "/config.json: missing or malformed field (", e.what(), ")");
  }
  load_parameters(dir + "/model.safetensors", task->params());
  task->to(device);
  return task;
}

}  // namespace duet::cli
