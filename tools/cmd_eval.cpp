// duet eval (accuracy from a checkpoint; for fusion: robustness and disagreement analysis)
// and duet predict (one recording and/or one picture).
#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "dsp/wav.h"
#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/functional.h"
#include "models/fusion.h"
#include "models/trainer.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/common.h"
#include "tools/model_dir.h"
#include "tools/plot.h"
#include "tools/reading.h"
#include "tools/report.h"

namespace fs = std::filesystem;

namespace duet::cli {
namespace {

// Accuracy of several readings of the same test pairs under one degradation.
std::map<std::string, double> fusion_accuracies(models::FusionTask& t, const models::Degradation& d, uint64_t seed,
                                                std::vector<std::string>* methods) {
  NoGrad ng;
  Rng rng(seed);
  std::map<std::string, int64_t> correct;
  const int64_t n = t.test_size();
  for (int64_t s = 0; s < n; s += 256) {
    std::vector<int64_t> idx;
    for (int64_t i = s; i < std::min(n, s + 256); ++i) idx.push_back(i);
    models::Batch b = t.degraded_test_batch(idx, rng, d);
    models::FusionOutputs o = t.outputs(b);
    std::vector<std::pair<std::string, Tensor>> reads = {{"audio-only", o.audio}, {"image-only", o.image}};
    if (t.strategy() == "late") reads.insert(reads.end(), o.late.begin(), o.late.end());
    else reads.emplace_back("fused", o.fused);
    for (auto& [name, logits] : reads) {
      auto pred = F::argmax(logits).to_vector<int32_t>();
      for (size_t k = 0; k < idx.size(); ++k) correct[name] += pred[k] == t.test_label(idx[k]);
    }
    if (methods && methods->empty())
      for (auto& [name, l] : reads) methods->push_back(name);
  }
  std::map<std::string, double> acc;
  for (auto& [name, c] : correct) acc[name] = double(c) / double(n);
  return acc;
}

void draw_robustness(const std::string& path, const std::vector<models::Degradation>& degs,
                     const std::vector<std::string>& methods, const std::vector<std::map<std::string, double>>& acc,
                     const std::string& title) {
  // Room for every row's label (about 115 pixels each) side by side.
  const int width = std::max(1200, 115 * int(degs.size()));
  plot::Image img(width, 520);
  std::vector<plot::Series> series;
  for (size_t m = 0; m < methods.size(); ++m) {
    plot::Series s(methods[m], plot::palette(int(m)), true);
    for (size_t d = 0; d < degs.size(); ++d) s.x.push_back(double(d)), s.y.push_back(100 * acc[d].at(methods[m]));
    series.push_back(s);
  }
  plot::Axes ax(title, "degradation", "test accuracy (%)");
  ax.ymin = 0;
  ax.ymax = 100;
  ax.legend_bottom = true;  // accuracies keep to the top of the chart
  ax.xmin = -0.5;
  ax.xmax = double(degs.size()) - 0.5;
  for (size_t d = 0; d < degs.size(); ++d) {
    std::string label = degs[d].name;
    for (auto [from, to] : {std::pair<std::string, std::string>{"image ", "img "}, {"audio ", "aud "}, {" missing", " gone"},
                            {"occluded 14x14", "occl."}, {"noise ", "n"}, {"SNR ", ""}})
      if (auto p = label.find(from); p != std::string::npos) label.replace(p, from.size(), to);
    ax.xtick_labels.push_back(label);
  }
  plot::line_chart(img, {0, 0, width, 520}, ax, series);
  img.save_png(path);
}

// robustness.csv (degradation,accuracy,loss) and robustness.png for one audio or image model.
void write_robustness(const std::string& out, const std::string& arch, const std::vector<models::Degradation>& degs,
                      const std::vector<models::EvalResult>& results) {
  std::ofstream f(out + "/robustness.csv");
  DUET_CHECK(f, out, "/robustness.csv: cannot open for writing");
  f << "degradation,accuracy,loss\n";
  std::vector<std::map<std::string, double>> table;
  for (size_t d = 0; d < degs.size(); ++d) {
    f << degs[d].name << ',' << results[d].accuracy << ',' << results[d].loss << '\n';
    table.push_back({{arch, results[d].accuracy}});
  }
  draw_robustness(out + "/robustness.png", degs, {arch}, table, arch + " robustness");
}

int eval_fusion(models::FusionTask& t, const std::string& out, bool json, uint64_t seed) {
  make_output_folder(out);
  std::vector<models::Degradation> degs = models::standard_degradations();
  std::vector<std::string> methods;
  std::vector<std::map<std::string, double>> table;
  for (const auto& d : degs) table.push_back(fusion_accuracies(t, d, seed, &methods));
  // robustness.csv: one row per degradation, one column per method.
  {
    std::ofstream f(out + "/robustness.csv");
    DUET_CHECK(f, out, "/robustness.csv: cannot open for writing");
    f << "degradation";
    for (auto& m : methods) f << ',' << m;
    f << '\n';
    for (size_t d = 0; d < degs.size(); ++d) {
      f << degs[d].name;
      for (auto& m : methods) f << ',' << table[d].at(m);
      f << '\n';
    }
  }
  const std::string title = std::string("fusion:") + t.strategy() + (t.hard() ? " (hard)" : "") + " robustness";
  draw_robustness(out + "/robustness.png", degs, methods, table, title);
  // disagreements.csv: clean test pairs where the two modalities disagree.
  int64_t disagree = 0, audio_right = 0, image_right = 0, fused_right = 0;
  {
    NoGrad ng;
    std::ofstream f(out + "/disagreements.csv");
    DUET_CHECK(f, out, "/disagreements.csv: cannot open for writing");
    f << "pair,truth,audio_pred,audio_conf,image_pred,image_conf,fused_pred\n";
    Rng rng(seed);
    for (int64_t s = 0; s < t.test_size(); s += 256) {
      std::vector<int64_t> idx;
      for (int64_t i = s; i < std::min(t.test_size(), s + 256); ++i) idx.push_back(i);
      models::FusionOutputs o = t.outputs(t.degraded_test_batch(idx, rng, models::Degradation{}));
      auto pa = F::softmax(o.audio).to_vector<float>(), pi = F::softmax(o.image).to_vector<float>();
      auto fa = F::argmax(o.fused).to_vector<int32_t>();
      for (size_t k = 0; k < idx.size(); ++k) {
        const int ap = int(std::max_element(pa.begin() + k * 10, pa.begin() + k * 10 + 10) - (pa.begin() + k * 10));
        const int ip = int(std::max_element(pi.begin() + k * 10, pi.begin() + k * 10 + 10) - (pi.begin() + k * 10));
        if (ap == ip) continue;
        const int truth = t.test_label(idx[k]);
        ++disagree;
        audio_right += ap == truth, image_right += ip == truth, fused_right += fa[k] == truth;
        f << idx[k] << ',' << truth << ',' << ap << ',' << pa[k * 10 + ap] << ',' << ip << ',' << pi[k * 10 + ip] << ','
          << fa[k] << '\n';
      }
    }
  }
  const std::string main_method = t.strategy() == "late" ? "late-weighted" : "fused";
  if (json) {
    nlohmann::json j = {{"accuracy", table[0].at(main_method)}, {"strategy", t.strategy()}, {"hard", t.hard()}};
    for (size_t d = 0; d < degs.size(); ++d) j["robustness"][degs[d].name] = table[d];
    j["disagreements"] = {{"count", disagree}, {"audio_right", audio_right}, {"image_right", image_right},
                          {"fused_right", fused_right}};
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("fusion:%s%s  test pairs: %lld\n", t.strategy().c_str(), t.hard() ? " (hard)" : "",
              (long long)t.test_size());
  std::printf("  %-22s", "degradation");
  for (auto& m : methods) std::printf(" %15s", m.c_str());
  std::printf("\n");
  for (size_t d = 0; d < degs.size(); ++d) {
    std::printf("  %-22s", degs[d].name.c_str());
    for (auto& m : methods) std::printf(" %14.2f%%", 100 * table[d].at(m));
    std::printf("\n");
  }
  std::printf("  modalities disagree on %lld clean pairs: audio right %lld, image right %lld, fused right %lld\n",
              (long long)disagree, (long long)audio_right, (long long)image_right, (long long)fused_right);
  if (t.strategy() == "late") std::printf("  late fusion audio weight (fitted on held-out training pairs): %.2f\n", t.late_weight());
  std::printf("wrote %s/robustness.csv, robustness.png, disagreements.csv\n", out.c_str());
  return 0;
}

// A WAV whose header gave no usable data size (streamed to a pipe, or cut short), a FLAC, MP3 or
// AAC file cut short, or an MP3 with damaged stretches skipped, was read to its end: a note on stderr says so (stdout, JSON included, is unchanged).
void note_wav_header(const std::string& path, const dsp::WavInfo& info) {
  if (!info.note.empty()) std::fprintf(stderr, "duet: note: %s: %s\n", path.c_str(), info.note.c_str());
}

// A clipped recording (an input turned up too far) is read as it is; a note on stderr says so.
void note_clipping(const std::string& path, const dsp::Audio& audio) {
  const dsp::Level l = dsp::measure_level(audio.samples, audio.sample_rate);
  if (l.clipped())
    std::fprintf(stderr,
                 "duet: note: %s: %lld samples (%.1f ms in all) lie within 1%% of the peak (%.1f dBFS): the recording "
                 "is clipped\n",
                 path.c_str(), (long long)l.near_peak, 1000 * l.near_peak_seconds(), 20 * std::log10(l.peak));
}

// A user's recording (predict, eval --inputs), with the notes on how it was read.
dsp::Audio read_noted_audio(const std::string& path) {
  dsp::WavInfo info;
  dsp::Audio audio = dsp::read_audio(path, &info);
  note_wav_header(path, info);
  note_clipping(path, audio);
  return audio;
}

// duet eval --inputs FOLDER: an audio or image model on the user's own labelled files, each
// brought to the model's input exactly as duet predict brings it.
// For an audio model the speeds its clips are heard at, for an image model the shifts its
// pictures are read at (one line).
void print_test_views(models::Task& task) {
  if (auto* a = dynamic_cast<models::AudioTask*>(&task))
    std::printf("clips heard at speeds %s\n", describe_test_speeds(a->recipe().test_speeds).c_str());
  if (auto* i = dynamic_cast<models::ImageTask*>(&task)) std::printf("%s\n", describe_test_shift(i->test_shift()).c_str());
}

// The model's test-time views in --json output.
void add_test_views(nlohmann::json& j, models::Task& task) {
  if (auto* a = dynamic_cast<models::AudioTask*>(&task)) j["test_speeds"] = a->recipe().test_speeds;
  if (auto* i = dynamic_cast<models::ImageTask*>(&task)) j["test_shift"] = i->test_shift();
}

// What the preparation of a picture did beyond fitting it, or found (digits side by side), as
// models::PictureNotes says; inputs.csv's `prepared` column, --json's "prepared" object and the
// text summary name each step.
struct PreparationStep {
  const char* csv;
  const char* json;
  const char* text;
};
constexpr auto kPreparationSteps = std::to_array<PreparationStep>({
    {"transparent", "transparent_flattened", "with a transparent background read as paper"},
    {"turned", "turned_upright", "turned upright as their EXIF orientation says"},
    {"smoothed", "smoothed", "read smoothed (noisy)"},
    {"specks", "specks_replaced", "with salt-and-pepper specks replaced"},
    {"lines", "ruled_lines_taken_out", "with ruled lines taken out"},
    {"strays", "stray_marks_left_out", "with marks apart from the digit left out"},
    {"redrawn", "redrawn", "redrawn with a wider pen (thin strokes)"},
    {"side_by_side", "digits_side_by_side", "holding digits side by side (read together as one)"},
});
using PreparedSteps = std::array<bool, kPreparationSteps.size()>;  // which of them one picture took
PreparedSteps preparation_steps(const models::PictureFile& f, const models::PictureNotes& n) {
  return {f.background >= 0, f.orientation != 1, n.noise > 0,  n.impulses > 0,
          n.lines > 0,       n.strays > 0,       n.redrawn,    n.side_by_side > 0};
}

int eval_inputs(models::Task& task, const std::string& kind, const std::string& folder, const std::string& out,
                bool json) {
  const std::vector<LabelledInput> inputs = labelled_inputs(folder, kind, "--inputs", false);  // noted when first read
  NoGrad ng;
  std::array<std::array<int64_t, 10>, 10> confusion{};
  std::map<std::string, std::pair<int64_t, int64_t>> groups;
  struct Row {
    const LabelledInput* in;
    int prediction;
    std::vector<float> probabilities;
    PreparedSteps prepared;  // pictures: which of kPreparationSteps were taken (or found)
    float confidence() const { return probabilities[prediction]; }
  };
  std::vector<Row> rows, wrong;
  for (const LabelledInput& in : inputs) {
    models::Batch b;
    PreparedSteps prepared{};
    if (kind == "audio") {
      const dsp::Audio a = read_noted_audio(in.path);
      b = about_file(in.path, [&] { return dynamic_cast<models::AudioTask&>(task).input_for(a.samples, a.sample_rate); });
    } else {
      int w = 0, h = 0;
      models::PictureFile file;
      const std::vector<uint8_t> gray = models::load_gray_image(in.path, &w, &h, &file);
      models::PictureNotes notes;
      b = about_file(in.path, [&] { return dynamic_cast<models::ImageTask&>(task).input_for(gray, w, h, &notes); });
      prepared = preparation_steps(file, notes);
    }
    const std::vector<float> p = F::softmax(task.forward(b, false, 0)).to_vector<float>();
    const int pred = int(std::max_element(p.begin(), p.end()) - p.begin());
    rows.push_back({&in, pred, p, prepared});
    if (pred != in.label) wrong.push_back(rows.back());
    ++confusion[in.label][pred];
    if (!in.group.empty()) groups[in.group].first += pred == in.label, ++groups[in.group].second;
  }
  std::stable_sort(wrong.begin(), wrong.end(), [](const Row& a, const Row& b) { return a.confidence() > b.confidence(); });
  make_output_folder(out);
  {
    std::ofstream f(out + "/inputs.csv");
    DUET_CHECK(f, out, "/inputs.csv: cannot open for writing");
    f << "file,label,prediction,confidence";
    write_probability_header(f);
    if (kind == "image") f << ",prepared";
    f << '\n';
    for (const Row& r : rows) {
      f << csv_field(r.in->path) << ',' << r.in->label << ',' << r.prediction << ',' << r.confidence();
      write_probabilities(f, r.probabilities.data());
      if (kind == "image") {
        f << ',';
        bool first = true;
        for (size_t k = 0; k < kPreparationSteps.size(); ++k)
          if (r.prepared[k]) f << (first ? "" : ";") << kPreparationSteps[k].csv, first = false;
      }
      f << '\n';
    }
  }
  const double accuracy = double(rows.size() - wrong.size()) / double(rows.size());
  std::array<int64_t, kPreparationSteps.size()> prepared{};  // how many pictures took each step (what predict notes one by one)
  for (const Row& r : rows)
    for (size_t k = 0; k < prepared.size(); ++k) prepared[k] += r.prepared[k];
  std::array<int64_t, 10> per_class_count{};
  for (int t = 0; t < 10; ++t)
    for (int p = 0; p < 10; ++p) per_class_count[t] += confusion[t][p];
  if (json) {
    nlohmann::json j = {{"accuracy", accuracy}, {"count", rows.size()}, {"errors", wrong.size()}};
    j["per_class_accuracy"] = nlohmann::json::object();
    for (int t = 0; t < 10; ++t)
      if (per_class_count[t])
        j["per_class_accuracy"][std::to_string(t)] = double(confusion[t][t]) / double(per_class_count[t]);
    if (!groups.empty()) {
      j["per_group_accuracy"] = nlohmann::json::object();
      for (auto& [g, c] : groups) j["per_group_accuracy"][g] = double(c.first) / double(c.second);
    }
    add_test_views(j, task);
    if (kind == "image") {
      j["prepared"] = nlohmann::json::object();
      for (size_t k = 0; k < prepared.size(); ++k) j["prepared"][kPreparationSteps[k].json] = prepared[k];
    }
    j["wrong"] = nlohmann::json::array();
    for (const Row& r : wrong)
      j["wrong"].push_back({{"file", r.in->path}, {"label", r.in->label}, {"prediction", r.prediction},
                            {"confidence", r.confidence()}});
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("%s: accuracy %.2f%% on %zu files of %s\n", kind.c_str(), 100 * accuracy, rows.size(), folder.c_str());
  print_test_views(task);
  std::string said;
  for (size_t k = 0; k < prepared.size(); ++k)
    if (prepared[k] > 0)
      said += (said.empty() ? "" : ", ") + std::to_string(prepared[k]) + " " + kPreparationSteps[k].text;
  if (!said.empty()) std::printf("pictures prepared beyond fitting: %s\n", said.c_str());
  std::printf("per-class accuracy:");
  for (int t = 0; t < 10; ++t)
    if (per_class_count[t])
      std::printf("  %d: %.1f%% (%lld)", t, 100.0 * double(confusion[t][t]) / double(per_class_count[t]),
                  (long long)per_class_count[t]);
  std::printf("\n");
  if (groups.size() > 1) print_per_group(groups, "per-group accuracy (the name's second field)");
  for (size_t k = 0; k < std::min<size_t>(wrong.size(), 10); ++k)
    std::printf("  wrong: %s %s as %d (confidence %.3f)\n", wrong[k].in->path.c_str(),
                kind == "audio" ? "heard" : "read", wrong[k].prediction, wrong[k].confidence());
  if (wrong.size() > 10) std::printf("  ... and %zu more\n", wrong.size() - 10);
  std::printf("wrote %s/inputs.csv\n", out.c_str());
  return 0;
}

// duet eval --inputs FOLDER --number: files named after their number (427_mine.wav, 305_form.png), each read as
// duet predict --number reads it. A number is right when every digit is found and read right; the digits' accuracy
// counts the numbers whose digits were all found.
int eval_number_inputs(models::Task& task, const std::string& kind, const std::string& folder, const std::string& out,
                       bool json) {
  const std::vector<LabelledInput> inputs = labelled_inputs(folder, kind, "--inputs", false, true);
  NoGrad ng;
  struct Row {
    const LabelledInput* in;
    std::string read;
    double confidence;  // the least sure digit's probability
  };
  std::vector<Row> rows, wrong;
  int64_t counted = 0, digits = 0, digits_right = 0;
  std::map<std::string, std::pair<int64_t, int64_t>> groups;
  for (const LabelledInput& in : inputs) {
    std::vector<NumberDigit> found;
    if (kind == "audio") {
      const dsp::Audio a = read_noted_audio(in.path);
      about_file(in.path, [&] { models::check_audible(a.samples); });
      found = said_number(dynamic_cast<models::AudioTask&>(task), a, in.path);  // its errors name the file
    } else {
      int w = 0, h = 0;
      const std::vector<uint8_t> gray = models::load_gray_image(in.path, &w, &h);
      found = written_number(dynamic_cast<models::ImageTask&>(task), gray, w, h, in.path, nullptr);
    }
    Row r{&in, number_of(found), 1.0};
    for (const NumberDigit& d : found) r.confidence = std::min(r.confidence, double(d.probabilities[d.prediction]));
    if (r.read.size() == in.number.size()) {
      ++counted, digits += int64_t(in.number.size());
      for (size_t k = 0; k < in.number.size(); ++k) digits_right += r.read[k] == in.number[k];
    }
    rows.push_back(r);
    if (r.read != in.number) wrong.push_back(r);
    if (!in.group.empty()) groups[in.group].first += r.read == in.number, ++groups[in.group].second;
  }
  make_output_folder(out);
  {
    std::ofstream f(out + "/inputs.csv");
    DUET_CHECK(f, out, "/inputs.csv: cannot open for writing");
    f << "file,number,read,least_confidence\n";
    for (const Row& r : rows)
      f << csv_field(r.in->path) << ',' << r.in->number << ',' << r.read << ',' << r.confidence << '\n';
  }
  const double n = double(rows.size());
  const double accuracy = double(rows.size() - wrong.size()) / n, count_right = double(counted) / n;
  const double digit_accuracy = digits ? double(digits_right) / double(digits) : 0.0;
  if (json) {
    nlohmann::json j = {{"accuracy", accuracy},         {"count", rows.size()},
                        {"count_right", count_right},   {"digit_accuracy", digit_accuracy},
                        {"errors", wrong.size()}};
    if (!groups.empty()) {
      j["per_group_accuracy"] = nlohmann::json::object();
      for (auto& [g, c] : groups) j["per_group_accuracy"][g] = double(c.first) / double(c.second);
    }
    add_test_views(j, task);
    j["wrong"] = nlohmann::json::array();
    for (const Row& r : wrong) j["wrong"].push_back({{"file", r.in->path}, {"number", r.in->number}, {"read", r.read}});
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("%s: %.2f%% of %zu numbers read right (%s); every digit found in %.2f%%, and %.2f%% of their digits "
              "read right\n", kind.c_str(), 100 * accuracy, rows.size(), folder.c_str(), 100 * count_right,
              100 * digit_accuracy);
  print_test_views(task);
  if (groups.size() > 1) print_per_group(groups, "per-group accuracy (the name's second field)");
  for (size_t k = 0; k < std::min<size_t>(wrong.size(), 10); ++k)
    std::printf("  wrong: %s %s as %s\n", wrong[k].in->path.c_str(), kind == "audio" ? "heard" : "read",
                wrong[k].read.c_str());
  if (wrong.size() > 10) std::printf("  ... and %zu more\n", wrong.size() - 10);
  std::printf("wrote %s/inputs.csv\n", out.c_str());
  return 0;
}

// --test-speeds LIST (eval, predict): an audio model hears its clips at these speeds instead
// of those it was saved with; refused for other models before anything loads.
std::vector<double> test_speeds_flag(const Args& args, const std::string& kind) {
  if (!args.has("test-speeds")) return {};
  DUET_CHECK(kind == "audio", "--test-speeds applies to audio models, not ", kind, " models");
  return parse_test_speeds(args.str("test-speeds", ""));
}

// --test-shift PX (eval, predict): an image model reads its pictures with these test-time
// shifts instead of those it was saved with; -1 when not given. Refused for other models
// before anything loads.
int test_shift_flag(const Args& args, const std::string& kind) {
  if (!args.has("test-shift")) return -1;
  DUET_CHECK(kind == "image", "--test-shift applies to image models, not ", kind, " models");
  return int(args.integer("test-shift", 0, 0, models::kMaxTestShift));
}

void apply_test_views(models::Task& task, const std::vector<double>& speeds, int shift) {
  if (!speeds.empty()) dynamic_cast<models::AudioTask&>(task).set_test_speeds(speeds);
  if (shift >= 0) dynamic_cast<models::ImageTask&>(task).set_test_shift(shift);
}

// A recording longer than the model's window after its silence is trimmed (several words, a
// long pause inside one) is heard only in part: a note on stderr says so (and, for an audio
// model, that --number reads several digits).
void note_long_recording(const std::string& path, const dsp::Audio& audio, models::Task& task) {
  const models::AudioRecipe* r = nullptr;
  if (auto* a = dynamic_cast<models::AudioTask*>(&task)) r = &a->recipe();
  if (auto* f = dynamic_cast<models::FusionTask*>(&task)) r = &f->recipe();
  if (!r) return;
  const models::AudioRecipe& recipe = *r;
  const size_t kept = models::recipe_clip(audio.samples, audio.sample_rate, recipe).size();
  if (int64_t(kept) <= recipe.num_samples) return;
  std::fprintf(stderr, "duet: note: %s: the sound lasts %.2f s%s; the model hears its loudest %.2f s%s\n", path.c_str(),
               double(kept) / recipe.sample_rate, recipe.trim ? " once the silence around it is trimmed" : "",
               double(recipe.num_samples) / recipe.sample_rate,
               dynamic_cast<models::AudioTask*>(&task) ? " (digits said in a row: --number reads each)" : "");
}

}  // namespace

int cmd_eval(const Argv& argv) {
  Args args(argv, {"model-dir", "data", "split", "device", "out", "seed", "inputs", "test-speeds", "test-shift"},
            {"help", "json", "hard", "robustness", "number"}, "eval");
  if (args.flag("help")) {
    std::printf(
        "usage: duet eval --model-dir DIR [--data DIR] [--split SPEC] [--device cpu|cuda] [--json] [--out DIR]\n"
        "                 [--robustness] [--seed N] [--hard] [--inputs FOLDER [--number]] [--test-speeds LIST]\n"
        "                 [--test-shift PX]\n"
        "Recomputes test accuracy from a trained model (the split it was trained with, unless --split),\n"
        "per class and (audio) per speaker, and lists the misclassified examples in OUT/errors.csv\n"
        "and every test example's class probabilities in OUT/predictions.csv.\n"
        "--robustness (audio and image models): accuracy on the same test examples degraded (audio:\n"
        "white noise at 20, 10, 0 and -5 dB SNR; image: Gaussian noise, a 14x14 occlusion), the rows\n"
        "of the fusion table that concern the one modality; for audio also pink noise, every clip\n"
        "played at speed 0.87 and 1.15 (lower and higher voices), recorded in a room (reverberation\n"
        "time 0.5 s near the talker, 1 s across the room) and with a quarter of the word cut off at\n"
        "its start or its end (a recording started late or stopped early); for images a photograph\n"
        "under uneven light, the digit seen at low resolution (8 pixels along its longer side) and\n"
        "drawn again along its centrelines with a fine pen (1/80 of its height) and a thick marker\n"
        "(a quarter of it), and saved as a picture file with Gaussian noise of sigma 0.3 and 0.5, or\n"
        "with a tenth of its pixels black or white, then read back as duet predict reads a file; in\n"
        "OUT/robustness.csv and robustness.png;\n"
        "--seed N draws the noise (default 0). Fusion models always report their robustness.\n"
        "Fusion models: accuracy of audio-only, image-only and fused readings under degradations\n"
        "(OUT/robustness.csv, robustness.png) and the pairs where the modalities disagree\n"
        "(OUT/disagreements.csv); OUT defaults to the model folder. --hard checks that the model was\n"
        "trained on the hard benchmark (duet train --model fusion --hard), whose inputs it then uses.\n"
        "--inputs FOLDER (audio and image models): accuracy on your own files instead of the test set:\n"
        "every .wav, .aiff, .caf, .flac, .mp3, .m4a, .aac or .ogg (audio) or picture (image: .png, .jpg, ...) in\n"
        "FOLDER, named after its digit (7_mine_1.wav, 3_serif.png), read as duet predict reads it; OUT/inputs.csv\n"
        "lists each file's label, prediction, confidence and class probabilities, and for a picture what the\n"
        "preparation did beyond fitting it or found (transparent, turned, smoothed, specks, lines,\n"
        "strays, redrawn, side_by_side; e.g. smoothed;lines); the counts of those are printed (JSON:\n"
        "\"prepared\"). The name's second field (7_NAME_...) groups the results.\n"
        "--number (with --inputs): files named after a number (427_mine.wav, 305_form.png), each read as duet\n"
        "predict --number reads it; the share of numbers read right (JSON \"accuracy\"), of numbers whose digits\n"
        "were all found (\"count_right\") and of those digits read right (\"digit_accuracy\"); OUT/inputs.csv lists\n"
        "each file's number and reading.\n"
        "--test-speeds LIST (audio models): hear each clip at these speeds (e.g. 1: the clip alone) and\n"
        "average the log-probabilities, instead of the speeds the model was saved with.\n"
        "--test-shift PX (image models): also read each picture moved PX pixels right, left, down and\n"
        "up and average the five readings' log-probabilities (0: the picture alone), instead of the\n"
        "shift the model was saved with.\n");
    return 0;
  }
  DUET_CHECK(args.has("model-dir"), "eval: --model-dir DIR is required");
  const std::string dir = args.str("model-dir", "");
  const Device device = choose_device(args.str("device", ""));
  const nlohmann::json config = read_config(dir);
  const std::string kind = config.at("model");
  const std::vector<double> speeds = test_speeds_flag(args, kind);
  const int shift = test_shift_flag(args, kind);
  if (args.has("inputs")) {
    for (const char* f : {"split", "data", "seed"})
      DUET_CHECK(!args.has(f), "eval: --inputs FOLDER takes the place of the test set; --", f, " does not apply");
    for (const char* f : {"robustness", "hard"})
      DUET_CHECK(!args.flag(f), "eval: --", f, " does not apply to --inputs FOLDER");
    DUET_CHECK(kind == "audio" || kind == "image", "eval: --inputs takes an audio or image model; ", dir, " holds a ",
               kind, " model (duet predict reads one recording and one picture)");
    const std::string folder = args.str("inputs", "");
    const bool number = args.flag("number");
    labelled_inputs(folder, kind, "--inputs", true, number);  // a wrong folder fails before the model loads
    // The folder the model trained on (duet train --extra): its accuracy there is not a test.
    const nlohmann::json data = config.value("data", nlohmann::json::object());
    std::error_code ec;
    if (data.is_object() && data.contains("extra") && data["extra"].is_string() &&
        fs::equivalent(folder, data["extra"].get<std::string>(), ec))
      std::fprintf(stderr,
                   "duet: note: %s trained on the files of %s (duet train --extra): its accuracy on them is not a "
                   "test on files it has never seen\n",
                   dir.c_str(), folder.c_str());
    auto task = load_model_dir(dir, device, "");
    apply_test_views(*task, speeds, shift);
    if (number) return eval_number_inputs(*task, kind, folder, args.str("out", dir), args.flag("json"));
    return eval_inputs(*task, kind, folder, args.str("out", dir), args.flag("json"));
  }
  DUET_CHECK(!args.flag("number"), "eval: --number reads the numbers of --inputs FOLDER (files named like "
             "427_mine.wav); the test set holds single digits");
  auto task = load_model_dir(dir, device, data::resolve_data_dir(args.str("data", "")), args.str("split", ""));
  apply_test_views(*task, speeds, shift);
  const uint64_t seed = uint64_t(args.integer("seed", 0, 0, INT64_MAX));
  if (auto* f = dynamic_cast<models::FusionTask*>(task.get())) {
    DUET_CHECK(!args.flag("hard") || f->hard(), dir, " was not trained with --hard (duet train --model fusion --hard)");
    return eval_fusion(*f, args.str("out", dir), args.flag("json"), seed);
  }
  DUET_CHECK(!args.flag("hard"), "--hard applies to fusion models");
  const std::string out = args.str("out", dir);
  make_output_folder(out);
  models::EvalResult r = models::evaluate(*task, 256, seed);
  const int64_t wrong = write_errors_csv(out + "/errors.csv", *task, r);
  write_predictions_csv(out + "/predictions.csv", *task, r);
  const auto groups = per_group_counts(*task, r);
  // --robustness: the same test examples under each degradation of the model's modality.
  std::vector<models::Degradation> degs;
  std::vector<models::EvalResult> degraded;
  if (args.flag("robustness")) {
    const nlohmann::json cfg = task->config();
    degs = models::degradations_of(cfg.at("model").get<std::string>());
    for (const auto& d : degs)
      degraded.push_back(d.name == "clean" ? r : models::evaluate_degraded(*task, d, 256, seed));
    write_robustness(out, cfg.at("arch").get<std::string>(), degs, degraded);
  }
  if (args.flag("json")) {
    auto pc = per_class_accuracy(r.confusion);
    nlohmann::json j = {{"accuracy", r.accuracy}, {"loss", r.loss}, {"count", r.count}, {"per_class_accuracy", pc},
                        {"errors", wrong}};
    if (!groups.empty()) {
      j["per_speaker_accuracy"] = nlohmann::json::object();
      for (auto& [g, c] : groups) j["per_speaker_accuracy"][g] = double(c.first) / double(c.second);
    }
    for (size_t d = 0; d < degs.size(); ++d) j["robustness"][degs[d].name] = degraded[d].accuracy;
    add_test_views(j, *task);
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("%s: test accuracy %.2f%% on %lld examples, loss %.4f\n", dir.c_str(), 100 * r.accuracy,
              (long long)r.count, r.loss);
  print_test_views(*task);
  print_per_class(r.confusion);
  print_per_group(groups);
  std::printf("wrote %s/errors.csv (%lld misclassified, most confident first) and %s/predictions.csv\n", out.c_str(),
              (long long)wrong, out.c_str());
  if (!degs.empty()) {
    std::printf("robustness (the same %lld test examples, each degraded; noise drawn from --seed %llu):\n",
                (long long)r.count, (unsigned long long)seed);
    for (size_t d = 0; d < degs.size(); ++d)
      std::printf("  %-22s %6.2f%%  loss %.4f\n", degs[d].name.c_str(), 100 * degraded[d].accuracy, degraded[d].loss);
    std::printf("wrote %s/robustness.csv and robustness.png\n", out.c_str());
  }
  return 0;
}

int cmd_predict(const Argv& argv) {
  Args args(argv, {"model-dir", "audio", "image", "device", "test-speeds", "test-shift"}, {"help", "json", "number"},
            "predict");
  if (args.flag("help")) {
    std::printf(
        "usage: duet predict --model-dir DIR [--audio FILE.wav|aiff|caf|flac|mp3|m4a|ogg] [--image FILE.png|jpg] [--json]\n"
        "                    [--number] [--test-speeds LIST] [--test-shift PX] [--device cuda|cpu]\n"
        "Class probabilities and the predicted digit. Audio: any WAV, AIFF, CAF, FLAC, MP3, AAC (M4A) or Ogg Vorbis\n"
        "duet reads (resampled as needed). Images: any size and polarity, brought to MNIST form. Fusion models take either\n"
        "or both, and report each modality's probabilities and the modality weights.\n"
        "--number (audio and image models): read several digits: words said in a row (a pause of 0.2 s or more\n"
        "between them reads surest; words said without one are cut where the model reads them best), or digits\n"
        "written side by side (digits that touch cut the same way); each is read as one input is.\n"
        "--test-speeds LIST (audio models): hear the clip at these speeds instead of the model's own.\n"
        "--test-shift PX (image models): also read the picture moved PX pixels right, left, down and up\n"
        "and average the five readings (0: the picture as it is) instead of the model's own shift.\n");
    return 0;
  }
  DUET_CHECK(args.has("model-dir"), "predict: --model-dir DIR is required");
  const std::string dir = args.str("model-dir", "");
  nlohmann::json cfg = read_config(dir);
  const std::string kind = cfg.at("model");
  const bool has_audio = args.has("audio"), has_image = args.has("image");
  DUET_CHECK(kind != "audio" || (has_audio && !has_image), "predict: an audio model takes --audio FILE.wav (only)");
  DUET_CHECK(kind != "image" || (has_image && !has_audio), "predict: an image model takes --image FILE (only)");
  DUET_CHECK(has_audio || has_image, "predict: give --audio FILE.wav and/or --image FILE");
  const bool number = args.flag("number");
  DUET_CHECK(!number || kind != "fusion", "predict: --number reads several digits with an audio or an image model; ",
             dir, " holds a fusion model (it reads one digit from a recording and a picture together)");
  // Read the inputs before loading the model: a wrong file, a silent recording or a blank
  // picture fails fast.
  dsp::Audio audio;
  std::vector<uint8_t> gray;
  int w = 0, h = 0;
  models::PictureFile file;
  models::PictureNotes notes;
  const std::string audio_path = args.str("audio", ""), image_path = args.str("image", "");
  if (has_audio) {
    audio = read_noted_audio(audio_path);
    about_file(audio_path, [&] { models::check_audible(audio.samples); });
  }
  if (has_image) {
    gray = models::load_gray_image(image_path, &w, &h, &file);
    if (number) about_file(image_path, [&] { (void)models::number_digits(gray, w, h, &notes); });
    else about_file(image_path, [&] { (void)models::to_mnist_form(gray, w, h, &notes); });
    if (!number) note_picture(image_path, file, notes, number, kind == "image");  // --number: once the digits are read
  }
  const std::vector<double> speeds = test_speeds_flag(args, kind);
  const int shift = test_shift_flag(args, kind);
  auto task = load_model_dir(dir, choose_device(args.str("device", "")), "");
  apply_test_views(*task, speeds, shift);
  if (has_audio && !number) note_long_recording(audio_path, audio, *task);
  NoGrad ng;
  nlohmann::json j;
  auto probs_of = [](const Tensor& logits) { return F::softmax(logits).to_vector<float>(); };
  auto argmax = [](const std::vector<float>& p) { return int(std::max_element(p.begin(), p.end()) - p.begin()); };
  if (number) {
    std::vector<NumberDigit> digits;
    if (has_audio) {
      digits = said_number(dynamic_cast<models::AudioTask&>(*task), audio, audio_path);
    } else {
      digits = written_number(dynamic_cast<models::ImageTask&>(*task), gray, w, h, image_path, &notes);
      note_picture(image_path, file, notes, number, true);
    }
    j = {{"number", number_of(digits)}, {"digits", nlohmann::json::array()}};
    for (const NumberDigit& d : digits) {
      nlohmann::json one = d.where;
      one["prediction"] = d.prediction, one["probabilities"] = d.probabilities;
      j["digits"].push_back(one);
    }
    add_test_views(j, *task);
    if (args.flag("json")) {
      std::printf("%s\n", j.dump().c_str());
      return 0;
    }
    std::printf("number: %s\n", j["number"].get<std::string>().c_str());
    for (size_t k = 0; k < j["digits"].size(); ++k) {
      const nlohmann::json& d = j["digits"][k];
      const auto p = d["probabilities"].get<std::vector<float>>();
      const int digit = d["prediction"].get<int>();
      if (has_audio)
        std::printf("digit %zu: %d (%.3f), said %.2f-%.2f s\n", k + 1, digit, p[digit], d["start_s"].get<double>(),
                    d["end_s"].get<double>());
      else
        std::printf("digit %zu: %d (%.3f), written at x %d-%d, y %d-%d\n", k + 1, digit, p[digit],
                    d["box"][0].get<int>(), d["box"][2].get<int>(), d["box"][1].get<int>(), d["box"][3].get<int>());
    }
    print_test_views(*task);
    return 0;
  }
  if (auto* f = dynamic_cast<models::FusionTask*>(task.get())) {
    models::Batch b = f->single(has_audio ? &audio.samples : nullptr, audio.sample_rate, has_image ? &gray : nullptr, w, h);
    models::FusionOutputs o = f->outputs(b);
    auto pf = probs_of(o.fused);
    j = {{"prediction", argmax(pf)}, {"probabilities", pf}, {"strategy", f->strategy()}};
    if (o.audio.defined() && has_audio) j["audio_probabilities"] = probs_of(o.audio);
    if (o.image.defined() && has_image) j["image_probabilities"] = probs_of(o.image);
    if (o.alpha.defined()) {
      auto a = o.alpha.to_vector<float>();
      j["modality_weights"] = {{"audio", a[0]}, {"image", a[1]}};
    } else if (f->strategy() == "late") {
      j["modality_weights"] = {{"audio", has_image ? (has_audio ? f->late_weight() : 0.0) : 1.0},
                               {"image", has_audio ? (has_image ? 1 - f->late_weight() : 0.0) : 1.0}};
    }
  } else {
    models::Batch b;
    if (kind == "audio") b = dynamic_cast<models::AudioTask&>(*task).input_for(audio.samples, audio.sample_rate);
    else b = dynamic_cast<models::ImageTask&>(*task).input_for(gray, w, h);
    auto p = probs_of(task->forward(b, false, 0));
    j = {{"prediction", argmax(p)}, {"probabilities", p}};
    add_test_views(j, *task);
  }
  if (args.flag("json")) {
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("prediction: %d\n", j["prediction"].get<int>());
  auto print_probs = [](const char* label, const std::vector<float>& p) {
    std::printf("%-8s", label);
    for (int d = 0; d < 10; ++d) std::printf("  %d:%.3f", d, p[d]);
    std::printf("\n");
  };
  print_probs(kind == "fusion" ? "fused" : kind.c_str(), j["probabilities"].get<std::vector<float>>());
  print_test_views(*task);
  if (j.contains("audio_probabilities")) print_probs("audio", j["audio_probabilities"].get<std::vector<float>>());
  if (j.contains("image_probabilities")) print_probs("image", j["image_probabilities"].get<std::vector<float>>());
  if (j.contains("modality_weights"))
    std::printf("modality weights: audio %.3f, image %.3f\n", j["modality_weights"]["audio"].get<double>(),
                j["modality_weights"]["image"].get<double>());
  return 0;
}

}  // namespace duet::cli
