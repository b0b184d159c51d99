#include "tools/resume.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/checkpoint.h"
#include "engine/error.h"
#include "tools/common.h"

namespace fs = std::filesystem;

namespace duet::cli {
namespace {

constexpr const char* kRunFormat = "duet-run-1";
constexpr const char* kStateFormat = "duet-resume-1";
constexpr const char* kVelocity = "sgd.velocity";
constexpr const char* kAverage = "trainer.weight_average";  // --average-last, once it has begun
constexpr const char* kOrder = "trainer.order";

std::string run_path(const std::string& dir) { return dir + "/run.json"; }
std::string state_path(const std::string& dir) { return dir + "/resume.safetensors"; }

nlohmann::json stats_to_json(const models::EpochStats& s) {
  return {{"epoch", s.epoch},         {"train_loss", s.train_loss}, {"train_acc", s.train_acc},
          {"test_loss", s.test_loss}, {"test_acc", s.test_acc},     {"seconds", s.seconds}};
}

models::EpochStats stats_from_json(const nlohmann::json& j) {
  models::EpochStats s;
  s.epoch = j.at("epoch").get<int>();
  s.train_loss = j.at("train_loss").get<double>();
  s.train_acc = j.at("train_acc").get<double>();
  s.test_loss = j.at("test_loss").get<double>();
  s.test_acc = j.at("test_acc").get<double>();
  s.seconds = j.at("seconds").get<double>();
  return s;
}

// The "duet_resume" metadata of DIR/resume.safetensors, parsed; throws naming the file.
nlohmann::json state_metadata(const std::string& path, const Metadata& meta) {
  auto it = meta.find("duet_resume");
  DUET_CHECK(meta.count("format") && meta.at("format") == kStateFormat && it != meta.end(), path,
             ": not a duet training state (no duet_resume metadata)");
  nlohmann::json j = nlohmann::json::parse(it->second, nullptr, false);
  DUET_CHECK(j.is_object(), path, ": the duet_resume metadata is not a JSON object");
  return j;
}

// say_on_interrupt's message: two buffers, the one in use named by g_current (-1: none), so
// the handler never reads a buffer being written.
char g_messages[2][1024];
size_t g_lengths[2];
volatile std::sig_atomic_t g_current = -1;
bool g_terminal = false;                    // stderr is a terminal: end a progress bar's line first
std::atomic_flag g_said = ATOMIC_FLAG_INIT;  // once, though the signal may reach several threads

extern "C" void on_interrupt(int sig) {
  const int i = g_current;
  if (i >= 0 && !g_said.test_and_set()) {
    if (g_terminal) (void)!write(STDERR_FILENO, "\n", 1);
    (void)!write(STDERR_FILENO, g_messages[i], g_lengths[i]);
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

}  // namespace

void say_on_interrupt(const std::string& message) {
  static const bool installed = [] {
    g_terminal = isatty(STDERR_FILENO);
    for (int sig : {SIGINT, SIGTERM}) {
      struct sigaction old {};
      if (sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
      struct sigaction sa {};
      sa.sa_handler = on_interrupt;
      sigemptyset(&sa.sa_mask);
      sigaction(sig, &sa, nullptr);
    }
    return true;
  }();
  (void)installed;
  if (message.empty()) {
    g_current = -1;
    return;
  }
  const int next = g_current == 0 ? 1 : 0;
  const std::string line = "duet: " + message + "\n";
  g_lengths[next] = std::min(line.size(), sizeof g_messages[next]);
  std::memcpy(g_messages[next], line.data(), g_lengths[next]);
  g_current = next;
}

void write_run_record(const std::string& dir, const RunRecord& record) {
  make_output_folder(dir);
  nlohmann::json j = {{"format", kRunFormat}, {"args", record.args}, {"finished", record.finished}};
  if (!record.recipe.is_null()) j["recipe"] = record.recipe;
  const std::string path = run_path(dir), tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    DUET_CHECK(f, tmp, ": cannot open for writing");
    f << j.dump(2) << '\n';
    DUET_CHECK(f.good(), tmp, ": write failed (disk full?)");
  }
  fs::rename(tmp, path);
}

bool has_run_record(const std::string& dir) { return fs::is_regular_file(run_path(dir)); }

RunRecord read_run_record(const std::string& dir) {
  DUET_CHECK(!fs::exists(dir) || fs::is_directory(dir), "--resume: '", dir, "' is a file, not a folder");
  DUET_CHECK(fs::is_directory(dir), "--resume: folder '", dir, "' does not exist");
  const std::string path = run_path(dir);
  std::ifstream f(path);
  DUET_CHECK(f, path, ": missing ('", dir, "' is not a folder written by duet train, or one written before ",
             "--resume existed)");
  const nlohmann::json j = nlohmann::json::parse(f, nullptr, false);
  RunRecord r;
  try {
    DUET_CHECK(j.is_object() && j.value("format", "") == kRunFormat, path, ": not a duet run record");
    r.args = j.at("args").get<Argv>();
    r.finished = j.at("finished").get<bool>();
    if (j.contains("recipe")) r.recipe = j.at("recipe");
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": missing or malformed field (", e.what(), ")");
  }
  return r;
}

void check_same_recipe(const std::string& dir, const nlohmann::json& recorded, const nlohmann::json& now) {
  if (recorded.is_null() || recorded == now) return;
  // The first difference (a JSON patch from the recorded recipe to today's is never empty here).
  const std::string where = nlohmann::json::diff(recorded, now).at(0).value("path", "");
  std::string name = where.empty() ? "the recipe" : where.substr(1);
  std::replace(name.begin(), name.end(), '/', '.');
  const nlohmann::json::json_pointer ptr(where);
  const std::string then = recorded.contains(ptr) ? recorded.at(ptr).dump() : "absent";
  const std::string today = now.contains(ptr) ? now.at(ptr).dump() : "absent";
  fail(run_path(dir), ": this training started with another recipe than the same flags make with this duet (", name,
       ": ", then, " then, ", today, " now: this duet's defaults differ from those of the duet that started it, or ",
       "run.json was changed); resuming would train one model with both, so train it again without --resume, or ",
       "finish it with the duet that started it");
}

void save_train_state(const std::string& dir, models::Task& task, const models::TrainState& st) {
  TensorMap m;
  for (const auto& [name, t] : task.params().items()) m[name] = t;
  for (const auto& [name, t] : task.params().buffers()) m[name] = t;
  m[kVelocity] = st.velocity;
  if (st.averaged > 0) m[kAverage] = st.weight_average;
  Tensor order = Tensor::empty({int64_t(st.order.size())}, DType::i32, Device::cpu);
  for (size_t i = 0; i < st.order.size(); ++i) order.data<int32_t>()[i] = int32_t(st.order[i]);
  m[kOrder] = order;
  nlohmann::json history = nlohmann::json::array();
  for (const auto& s : st.history) history.push_back(stats_to_json(s));
  const nlohmann::json j = {{"epochs_done", st.epochs_done}, {"step", st.step}, {"rng_state", st.rng_state},
                            {"history", history}, {"averaged", st.averaged}};
  save_safetensors(state_path(dir), m, {{"format", kStateFormat}, {"duet_resume", j.dump()}});
}

std::optional<models::TrainState> load_train_state(const std::string& dir, models::Task& task) {
  const std::string path = state_path(dir);
  if (!fs::exists(path)) return std::nullopt;
  Metadata meta;
  TensorMap m = load_safetensors(path, &meta);
  const nlohmann::json j = state_metadata(path, meta);
  models::TrainState st;
  try {
    st.epochs_done = j.at("epochs_done").get<int>();
    st.step = j.at("step").get<int64_t>();
    st.rng_state = j.at("rng_state").get<uint64_t>();
    for (const auto& e : j.at("history")) st.history.push_back(stats_from_json(e));
    st.averaged = j.value("averaged", 0);  // states saved before --average-last existed: none
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": malformed duet_resume metadata (", e.what(), ")");
  }
  for (const char* name : {kVelocity, kOrder})
    DUET_CHECK(m.count(name), path, ": tensor '", name, "' is missing");
  st.velocity = m.at(kVelocity);
  const Tensor order = m.at(kOrder);
  DUET_CHECK(order.dtype() == DType::i32 && order.ndim() == 1, path, ": tensor '", kOrder, "' is not a 1-d int32 tensor");
  for (int64_t i = 0; i < order.numel(); ++i) st.order.push_back(order.data<int32_t>()[i]);
  m.erase(kVelocity);
  m.erase(kOrder);
  if (st.averaged > 0) {
    DUET_CHECK(m.count(kAverage), path, ": tensor '", kAverage, "' is missing (the state averages ", st.averaged,
               " epochs' weights)");
    st.weight_average = m.at(kAverage);
  }
  m.erase(kAverage);
  assign_parameters(m, task.params(), path);
  return st;
}

int saved_epochs(const std::string& dir) {
  const std::string path = state_path(dir);
  if (!fs::exists(path)) return 0;
  try {
    const nlohmann::json j = state_metadata(path, load_safetensors_metadata(path));
    const auto done = j.find("epochs_done");
    return done != j.end() && done->is_number_integer() && done->get<int>() >= 1 ? done->get<int>() : -1;
  } catch (const Error&) {
    return -1;
  }
}

void remove_train_state(const std::string& dir) {
  std::error_code ec;
  fs::remove(state_path(dir), ec);
}

Argv without_flag(const Argv& argv, const std::string& name, bool is_switch) {
  Argv out;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (argv[i] == "--" + name) {
      if (!is_switch) ++i;  // its value
      continue;
    }
    if (argv[i].rfind("--" + name + "=", 0) == 0) continue;
    out.push_back(argv[i]);
  }
  return out;
}

}  // namespace duet::cli
