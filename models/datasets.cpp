#include "models/datasets.h"

#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>

#include "engine/error.h"
#include "engine/rng.h"

namespace fs = std::filesystem;

namespace duet::data {

std::string resolve_data_dir(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("DUET_DATA"); env && *env) return env;
  return "data";
}

bool parse_recording_name(const std::string& filename, Recording* out) {
  static const std::regex re(R"(^([0-9])_([A-Za-z][A-Za-z0-9-]*)_([0-9]+)\.wav$)");
  std::smatch m;
  if (!std::regex_match(filename, m, re)) return false;
  out->digit = std::stoi(m[1]);
  out->speaker = m[2];
  out->index = std::stoi(m[3]);
  return true;
}

std::vector<std::string> Fsdd::speakers() const {
  std::set<std::string> s;
  for (const auto& r : recordings) s.insert(r.speaker);
  return {s.begin(), s.end()};
}

Fsdd load_fsdd(const std::string& root) {
  std::string dir = root;
  for (const char* sub : {"fsdd/recordings", "fsdd", "recordings"})
    if (fs::is_directory(fs::path(root) / sub)) {
      dir = (fs::path(root) / sub).string();
      break;
    }
  DUET_CHECK(fs::is_directory(dir), "FSDD folder '", root,
             "' does not exist or is not a folder (give --data DIR, set DUET_DATA, or run tools/get_data.sh)");
  Fsdd ds;
  ds.root = dir;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::string name = e.path().filename().string();
    std::string ext = e.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
    if (ext != ".wav") continue;
    Recording r;
    r.path = e.path().string();
    if (parse_recording_name(name, &r)) ds.recordings.push_back(r);
    else ds.skipped.push_back(r.path);
  }
  std::sort(ds.recordings.begin(), ds.recordings.end(),
            [](const Recording& a, const Recording& b) { return a.path < b.path; });
  std::sort(ds.skipped.begin(), ds.skipped.end());
  DUET_CHECK(!ds.recordings.empty(), dir, ": no recordings named {digit}_{speaker}_{index}.wav found");
  return ds;
}

std::vector<uint8_t> read_maybe_gzip(const std::string& path) {
  DUET_CHECK(fs::is_regular_file(path), path, ": no such file");
  gzFile f = gzopen(path.c_str(), "rb");  // reads plain files transparently too
  DUET_CHECK(f, path, ": cannot open");
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  for (;;) {
    int n = gzread(f, buf, sizeof buf);
    if (n < 0) {
      int err = 0;
      std::string msg = gzerror(f, &err);
      gzclose(f);
      fail(path, ": corrupt gzip data (", msg, ")");
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
    DUET_CHECK(out.size() < (size_t(1) << 31), path, ": decompresses to more than 2 GiB");
  }
  // A truncated gzip stream reads as a short file without an error from gzread; gzclose
  // reports it, and so does the length check of the caller.
  int rc = gzclose(f);
  DUET_CHECK(rc == Z_OK || rc == Z_BUF_ERROR, path, ": corrupt or truncated gzip file");
  DUET_CHECK(rc == Z_OK, path, ": truncated gzip file");
  return out;
}

namespace {
uint32_t be32(const uint8_t* p) { return (uint32_t(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3]; }
}  // namespace

Mnist load_mnist_files(const std::string& images_path, const std::string& labels_path) {
  std::vector<uint8_t> img = read_maybe_gzip(images_path), lab = read_maybe_gzip(labels_path);
  DUET_CHECK(img.size() >= 16, images_path, ": too short for an IDX image header (", img.size(), " bytes)");
  DUET_CHECK(be32(img.data()) == 2051, images_path, ": wrong magic ", be32(img.data()),
             " (expected 2051 for IDX images)");
  DUET_CHECK(lab.size() >= 8, labels_path, ": too short for an IDX label header (", lab.size(), " bytes)");
  DUET_CHECK(be32(lab.data()) == 2049, labels_path, ": wrong magic ", be32(lab.data()),
             " (expected 2049 for IDX labels)");
  Mnist m;
  m.count = be32(img.data() + 4);
  m.rows = be32(img.data() + 8);
  m.cols = be32(img.data() + 12);
  DUET_CHECK(m.rows > 0 && m.rows <= 1024 && m.cols > 0 && m.cols <= 1024, images_path, ": absurd image size ",
             m.rows, "x", m.cols);
  DUET_CHECK(uint64_t(img.size()) == 16 + uint64_t(m.count) * m.rows * m.cols, images_path, ": header says ",
             m.count, " images of ", m.rows, "x", m.cols, " (", 16 + m.count * m.rows * m.cols,
             " bytes) but the file has ", img.size(), " bytes");
  const int64_t nl = be32(lab.data() + 4);
  DUET_CHECK(uint64_t(lab.size()) == 8 + uint64_t(nl), labels_path, ": header says ", nl,
             " labels but the file has ", lab.size() - 8, " label bytes");
  DUET_CHECK(nl == m.count, labels_path, ": ", nl, " labels for ", m.count, " images in ", images_path);
  m.pixels.assign(img.begin() + 16, img.end());
  m.labels.assign(lab.begin() + 8, lab.end());
  for (int64_t i = 0; i < m.count; ++i)
    DUET_CHECK(m.labels[i] <= 9, labels_path, ": label ", int(m.labels[i]), " at item ", i, " is not a digit 0-9");
  return m;
}

Mnist load_mnist(const std::string& root, const std::string& which) {
  DUET_CHECK(which == "train" || which == "test", "MNIST split must be train or test, got '", which, "'");
  const std::string prefix = which == "train" ? "train" : "t10k";
  DUET_CHECK(fs::is_directory(root), "MNIST folder '", root,
             "' does not exist or is not a folder (give --data DIR, set DUET_DATA, or run tools/get_data.sh)");
  std::string dir = fs::is_directory(fs::path(root) / "mnist") ? (fs::path(root) / "mnist").string() : root;
  auto find = [&](const std::string& stem) {
    for (const char* ext : {".gz", ""}) {
      fs::path p = fs::path(dir) / (stem + ext);
      if (fs::is_regular_file(p)) return p.string();
    }
    fail("MNIST file ", (fs::path(dir) / (stem + ".gz")).string(),
         " not found (give --data DIR, set DUET_DATA, or run tools/get_data.sh)");
  };
  return load_mnist_files(find(prefix + "-images-idx3-ubyte"), find(prefix + "-labels-idx1-ubyte"));
}

Split make_split(const Fsdd& ds, const std::string& spec, double test_fraction, uint64_t seed) {
  Split s;
  s.name = spec;
  const int64_t n = int64_t(ds.recordings.size());
  if (spec == "random") {
    DUET_CHECK(test_fraction > 0 && test_fraction < 1, "split: test fraction must be in (0, 1), got ",
               test_fraction);
    std::vector<int64_t> idx(n);
    for (int64_t i = 0; i < n; ++i) idx[i] = i;
    Rng rng(seed);
    rng.shuffle(idx);
    const int64_t n_test = int64_t(std::llround(double(n) * test_fraction));
    s.test.assign(idx.begin(), idx.begin() + n_test);
    s.train.assign(idx.begin() + n_test, idx.end());
    std::sort(s.train.begin(), s.train.end());
    std::sort(s.test.begin(), s.test.end());
  } else if (spec == "official") {
    for (int64_t i = 0; i < n; ++i) (ds.recordings[i].index <= 4 ? s.test : s.train).push_back(i);
  } else if (spec.rfind("speaker:", 0) == 0) {
    const std::string who = spec.substr(8);
    auto sp = ds.speakers();
    DUET_CHECK(std::find(sp.begin(), sp.end(), who) != sp.end(), "split: no speaker '", who, "' in ", ds.root,
               " (speakers: ", [&] {
                 std::string all;
                 for (auto& x : sp) all += (all.empty() ? "" : ", ") + x;
                 return all;
               }(), ")");
    for (int64_t i = 0; i < n; ++i) (ds.recordings[i].speaker == who ? s.test : s.train).push_back(i);
  } else {
    fail("unknown split '", spec, "': expected random, official, speaker:NAME or loso");
  }
  DUET_CHECK(!s.train.empty() && !s.test.empty(), "split '", spec, "' leaves an empty train or test set");
  // Training order is a seeded shuffle, so "the first N training examples" (--train-limit)
  // is a fair sample of digits and speakers rather than the first files by name.
  Rng order(seed ^ 0x5eedull);
  order.shuffle(s.train);
  return s;
}

std::vector<Split> loso_splits(const Fsdd& ds) {
  std::vector<Split> out;
  for (const auto& sp : ds.speakers()) out.push_back(make_split(ds, "speaker:" + sp));
  return out;
}

}  // namespace duet::data
