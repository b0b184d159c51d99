#include "tools/report.h"

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "engine/error.h"
#include "tools/plot.h"

namespace duet::cli {

void write_metrics_csv(const std::string& path, const std::vector<models::EpochStats>& history) {
  std::ofstream f(path);
  DUET_CHECK(f, path, ": cannot open for writing");
  f << "epoch,train_loss,train_acc,test_loss,test_acc,seconds\n";
  char buf[256];
  for (const auto& s : history) {
    std::snprintf(buf, sizeof buf, "%d,%.6f,%.6f,%.6f,%.6f,%.3f\n", s.epoch, s.train_loss, s.train_acc, s.test_loss,
                  s.test_acc, s.seconds);
    f << buf;
  }
  DUET_CHECK(f.good(), path, ": write failed");
}

namespace {
// What each stage of the trainer's step holds (models/trainer.h, TrainCallbacks::profile).
const char* stage_note(const std::string& name) {
  if (name == "batch") return "the batch: augmentation, features, copy to the device (mixup: both batches)";
  if (name == "optimizer") return "zeroing the gradients, the SGD step";
  if (name == "metrics") return "the running loss and correct count";
  return "";
}
}  // namespace

void print_profile(const profile::Table& t, const std::string& where) {
  DUET_CHECK(t.steps > 0, "print_profile: no training step was timed");
  const double per = 1000.0 / double(t.steps), total = std::max(t.total_seconds, 1e-12);
  std::printf("per-op time of the training steps (%lld steps, %s; the evaluations not included):\n",
              (long long)t.steps, where.c_str());
  std::printf("  %-18s %10s %11s %12s %9s %7s\n", "op", "calls/step", "forward ms", "backward ms", "total ms", "share");
  const std::vector<profile::Entry> rows = t.sorted();
  for (bool stages : {false, true})
    for (const profile::Entry& e : rows) {
      if (e.stage != stages) continue;
      const std::string name = e.stage ? "[" + e.name + "]" : e.name;
      char backward[32] = "";
      if (!e.stage) std::snprintf(backward, sizeof backward, "%.3f", e.backward_seconds * per);
      std::printf("  %-18s %10.1f %11.3f %12s %9.3f %6.1f%%%s%s\n", name.c_str(), double(e.forward_calls) / double(t.steps),
                  e.forward_seconds * per, backward, e.seconds() * per, 100 * e.seconds() / total,
                  e.stage ? "  " : "", stage_note(e.stage ? e.name : ""));
    }
  const double rest = t.rest_seconds();
  std::printf("  %-18s %10s %11s %12s %9.3f %6.1f%%  the tape and the step's own code between the timed pieces\n",
              "[rest]", "", "", "", rest * per, 100 * rest / total);
  std::printf("  %-18s %10s %11s %12s %9.3f %6.1f%%\n", "step", "", "", "", t.total_seconds * per, 100.0);
}

void write_profile_csv(const std::string& path, const profile::Table& t) {
  std::ofstream f(path);
  DUET_CHECK(f, path, ": cannot open for writing");
  f << "name,kind,forward_calls,forward_seconds,backward_calls,backward_seconds,seconds,share\n";
  const double total = std::max(t.total_seconds, 1e-12);
  char buf[320];
  auto row = [&](const std::string& name, const char* kind, int64_t fc, double fs, int64_t bc, double bs) {
    std::snprintf(buf, sizeof buf, "%s,%s,%lld,%.6f,%lld,%.6f,%.6f,%.6f\n", csv_field(name).c_str(), kind, (long long)fc,
                  fs, (long long)bc, bs, fs + bs, (fs + bs) / total);
    f << buf;
  };
  for (const profile::Entry& e : t.sorted())
    row(e.name, e.stage ? "stage" : "op", e.forward_calls, e.forward_seconds, e.backward_calls, e.backward_seconds);
  row("rest", "rest", 0, t.rest_seconds(), 0, 0);
  row("steps", "steps", t.steps, t.total_seconds, 0, 0);
  DUET_CHECK(f.good(), path, ": write failed");
}

void draw_curves(const std::string& path, const std::vector<models::EpochStats>& h, const std::string& title) {
  plot::Image img(1100, 420);
  plot::Series tl("train", plot::palette(0), h.size() < 40), vl("test", plot::palette(1), h.size() < 40);
  plot::Series ta = tl, va = vl;
  for (const auto& s : h) {
    tl.x.push_back(s.epoch), tl.y.push_back(s.train_loss);
    vl.x.push_back(s.epoch), vl.y.push_back(s.test_loss);
    ta.x.push_back(s.epoch), ta.y.push_back(100 * s.train_acc);
    va.x.push_back(s.epoch), va.y.push_back(100 * s.test_acc);
  }
  plot::Axes loss(title + ": loss", "epoch", "cross-entropy");
  plot::line_chart(img, {0, 0, 550, 420}, loss, {tl, vl});
  plot::Axes acc(title + ": accuracy", "epoch", "accuracy (%)");
  plot::line_chart(img, {550, 0, 550, 420}, acc, {ta, va});
  img.save_png(path);
}

void draw_confusion(const std::string& path, const std::array<std::array<int64_t, 10>, 10>& c, const std::string& title) {
  plot::Heatmap h;
  h.title = title;
  h.rows = h.cols = 10;
  for (int t = 0; t < 10; ++t)
    for (int p = 0; p < 10; ++p) h.values.push_back(float(c[t][p]));
  h.annotate = true;
  h.xlabel = "predicted digit";
  h.ylabel = "true digit";
  h.colorbar_label = "count";
  for (int d = 0; d < 10; ++d) h.row_labels.push_back(std::to_string(d)), h.col_labels.push_back(std::to_string(d));
  plot::Image img(640, 560);
  plot::heatmap(img, {0, 0, 640, 560}, h);
  img.save_png(path);
}

std::array<double, 10> per_class_accuracy(const std::array<std::array<int64_t, 10>, 10>& c) {
  std::array<double, 10> a{};
  for (int t = 0; t < 10; ++t) {
    int64_t n = 0;
    for (int p = 0; p < 10; ++p) n += c[t][p];
    a[t] = n ? double(c[t][t]) / double(n) : 0.0;
  }
  return a;
}

void print_per_class(const std::array<std::array<int64_t, 10>, 10>& c) {
  auto a = per_class_accuracy(c);
  std::printf("per-class accuracy:");
  for (int d = 0; d < 10; ++d) std::printf("  %d: %.1f%%", d, 100 * a[d]);
  std::printf("\n");
}

std::map<std::string, std::pair<int64_t, int64_t>> per_group_counts(const models::Task& task,
                                                                    const models::EvalResult& r) {
  std::map<std::string, std::pair<int64_t, int64_t>> g;
  for (int64_t i = 0; i < int64_t(r.predictions.size()); ++i) {
    const std::string group = task.test_group(i);
    if (group.empty()) continue;
    auto& [correct, total] = g[group];
    correct += r.predictions[i] == task.test_label(i);
    ++total;
  }
  return g;
}

void print_per_group(const std::map<std::string, std::pair<int64_t, int64_t>>& groups, const char* label) {
  if (groups.empty()) return;
  std::printf("%s:", label);
  for (auto& [g, c] : groups)
    std::printf("  %s: %.1f%% (%lld)", g.c_str(), 100.0 * double(c.first) / double(c.second), (long long)c.second);
  std::printf("\n");
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + '"';
}

int64_t write_errors_csv(const std::string& path, const models::Task& task, const models::EvalResult& r) {
  std::vector<int64_t> wrong;
  for (int64_t i = 0; i < int64_t(r.predictions.size()); ++i)
    if (r.predictions[i] != task.test_label(i)) wrong.push_back(i);
  std::stable_sort(wrong.begin(), wrong.end(), [&](int64_t a, int64_t b) {
    return r.probabilities[a][r.predictions[a]] > r.probabilities[b][r.predictions[b]];
  });
  std::ofstream f(path);
  DUET_CHECK(f, path, ": cannot open for writing");
  f << "example,group,truth,prediction,confidence,truth_probability\n";
  char buf[128];
  for (int64_t i : wrong) {
    const int32_t truth = task.test_label(i), pred = r.predictions[i];
    std::snprintf(buf, sizeof buf, ",%d,%d,%.4f,%.4f\n", truth, pred, r.probabilities[i][pred], r.probabilities[i][truth]);
    f << csv_field(task.test_name(i)) << ',' << csv_field(task.test_group(i)) << buf;
  }
  DUET_CHECK(f.good(), path, ": write failed");
  return int64_t(wrong.size());
}

void write_probability_header(std::ostream& f) {
  for (int c = 0; c < 10; ++c) f << ",p" << c;
}

void write_probabilities(std::ostream& f, const float* p) {
  char buf[16];
  for (int c = 0; c < 10; ++c) {
    std::snprintf(buf, sizeof buf, ",%.6f", p[c]);
    f << buf;
  }
}

void write_predictions_csv(const std::string& path, const models::Task& task, const models::EvalResult& r) {
  std::ofstream f(path);
  DUET_CHECK(f, path, ": cannot open for writing");
  f << "example,group,truth,prediction";
  write_probability_header(f);
  f << '\n';
  for (int64_t i = 0; i < int64_t(r.predictions.size()); ++i) {
    f << csv_field(task.test_name(i)) << ',' << csv_field(task.test_group(i)) << ',' << task.test_label(i) << ','
      << r.predictions[i];
    write_probabilities(f, r.probabilities[i].data());
    f << '\n';
  }
  DUET_CHECK(f.good(), path, ": write failed");
}

}  // namespace duet::cli
