// Data-set loaders (on files the tests make, and on the real data in ../shared/data when
// present) and the splits.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <cstdlib>
#include <set>

#include "dsp/wav.h"
#include "engine/error.h"
#include "models/datasets.h"
#include "tests/cpu/scratch.h"

using namespace duet;
namespace fs = std::filesystem;

namespace {

fs::path scratch(const std::string& name) {
  static const duet_test::ScratchFolder folder("duet_data_");
  fs::path d = folder.path() / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write_bytes(const fs::path& p, const std::vector<uint8_t>& b, bool gzip) {
  if (gzip) {
    gzFile f = gzopen(p.string().c_str(), "wb");
    gzwrite(f, b.data(), unsigned(b.size()));
    gzclose(f);
  } else {
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  }
}

void be32(std::vector<uint8_t>& b, uint32_t v) {
  for (int i = 3; i >= 0; --i) b.push_back(uint8_t(v >> (8 * i)));
}

std::vector<uint8_t> idx_images(uint32_t magic, uint32_t n, uint32_t r, uint32_t c, size_t payload) {
  std::vector<uint8_t> b;
  be32(b, magic);
  be32(b, n);
  be32(b, r);
  be32(b, c);
  b.resize(b.size() + payload, 7);
  return b;
}

std::vector<uint8_t> idx_labels(uint32_t magic, std::vector<uint8_t> labels) {
  std::vector<uint8_t> b;
  be32(b, magic);
  be32(b, uint32_t(labels.size()));
  b.insert(b.end(), labels.begin(), labels.end());
  return b;
}

void expect_mnist_error(const fs::path& d, const std::string& needle) {
  try {
    data::load_mnist_files((d / "img").string(), (d / "lab").string());
    FAIL() << "expected an error containing " << needle;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

// The real data: $DUET_DATA when set, else ../shared/data beside the checkout.
const std::string kShared = std::getenv("DUET_DATA") ? std::getenv("DUET_DATA")
                                                     : std::string(DUET_SOURCE_DIR) + "/../shared/data";

}  // namespace

TEST(Mnist, ReadsGzipAndRawIdx) {
  for (bool gz : {true, false}) {
    fs::path d = scratch(gz ? "gz" : "raw");
    write_bytes(d / "img", idx_images(2051, 2, 3, 4, 24), gz);
    write_bytes(d / "lab", idx_labels(2049, {3, 9}), gz);
    data::Mnist m = data::load_mnist_files((d / "img").string(), (d / "lab").string());
    EXPECT_EQ(m.count, 2);
    EXPECT_EQ(m.rows, 3);
    EXPECT_EQ(m.cols, 4);
    EXPECT_EQ(m.labels, (std::vector<uint8_t>{3, 9}));
    EXPECT_EQ(m.pixels.size(), 24u);
  }
}

TEST(Mnist, BadFilesAreRefusedWithTheReason) {
  fs::path d = scratch("bad");
  auto set = [&](std::vector<uint8_t> img, std::vector<uint8_t> lab) {
    write_bytes(d / "img", img, true);
    write_bytes(d / "lab", lab, true);
  };
  set(idx_images(2049, 2, 3, 4, 24), idx_labels(2049, {1, 2}));
  expect_mnist_error(d, "wrong magic");
  set(idx_images(2051, 2, 3, 4, 24), idx_labels(2051, {1, 2}));
  expect_mnist_error(d, "wrong magic");
  set(idx_images(2051, 2, 3, 4, 23), idx_labels(2049, {1, 2}));
  expect_mnist_error(d, "header says 2 images");
  set(idx_images(2051, 2, 3, 4, 24), idx_labels(2049, {1, 2, 3}));
  expect_mnist_error(d, "3 labels for 2 images");
  set(idx_images(2051, 2, 3, 4, 24), idx_labels(2049, {1, 12}));
  expect_mnist_error(d, "label 12");
  set(idx_images(2051, 2, 0, 4, 0), idx_labels(2049, {1, 2}));
  expect_mnist_error(d, "absurd image size");
  set({1, 2, 3}, idx_labels(2049, {1}));
  expect_mnist_error(d, "too short");
  // A gzip stream cut in half.
  write_bytes(d / "whole", idx_images(2051, 50, 28, 28, 50 * 784), true);
  std::ifstream in(d / "whole", std::ios::binary);
  std::vector<uint8_t> gz((std::istreambuf_iterator<char>(in)), {});
  write_bytes(d / "img", std::vector<uint8_t>(gz.begin(), gz.begin() + gz.size() / 2), false);
  write_bytes(d / "lab", idx_labels(2049, std::vector<uint8_t>(50, 1)), true);
  expect_mnist_error(d, "truncated");
  // Garbage after a gzip magic.
  write_bytes(d / "img", {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3}, false);
  expect_mnist_error(d, "gzip");
  EXPECT_THROW(data::load_mnist((d / "nowhere").string(), "train"), Error);
  EXPECT_THROW(data::load_mnist(d.string(), "validation"), Error);
}

TEST(Fsdd, ParsesNamesAndReportsTheRest) {
  fs::path d = scratch("fsdd");
  fs::create_directories(d / "sub");
  const std::vector<float> tone(800, 0.1f);
  dsp::write_wav((d / "3_alice_7.wav").string(), tone, 8000);
  dsp::write_wav((d / "sub" / "9_bob_0.wav").string(), tone, 8000);
  dsp::write_wav((d / "hello.wav").string(), tone, 8000);
  dsp::write_wav((d / "12_bob_1.wav").string(), tone, 8000);
  std::ofstream(d / "notes.txt") << "x";
  data::Fsdd ds = data::load_fsdd(d.string());
  ASSERT_EQ(ds.recordings.size(), 2u);
  EXPECT_EQ(ds.recordings[0].digit, 3);
  EXPECT_EQ(ds.recordings[0].speaker, "alice");
  EXPECT_EQ(ds.recordings[0].index, 7);
  EXPECT_EQ(ds.recordings[1].speaker, "bob");
  EXPECT_EQ(ds.skipped.size(), 2u);  // hello.wav and 12_bob_1.wav
  EXPECT_EQ(ds.speakers(), (std::vector<std::string>{"alice", "bob"}));
  EXPECT_THROW(data::load_fsdd((d / "missing").string()), Error);
  fs::path empty = scratch("empty");
  EXPECT_THROW(data::load_fsdd(empty.string()), Error);
}

TEST(Splits, RealDataHasTheDocumentedSizes) {
  if (!fs::exists(kShared + "/fsdd/recordings")) GTEST_SKIP() << "no data at " << kShared;
  data::Fsdd ds = data::load_fsdd(kShared);
  ASSERT_EQ(ds.recordings.size(), 3000u);
  EXPECT_TRUE(ds.skipped.empty());
  EXPECT_EQ(ds.speakers().size(), 6u);
  auto r = data::make_split(ds, "random", 0.25, 0);
  EXPECT_EQ(r.train.size(), 2250u);
  EXPECT_EQ(r.test.size(), 750u);
  auto o = data::make_split(ds, "official");
  EXPECT_EQ(o.train.size(), 2700u);
  EXPECT_EQ(o.test.size(), 300u);
  auto t = data::make_split(ds, "speaker:theo");
  EXPECT_EQ(t.train.size(), 2500u);
  EXPECT_EQ(t.test.size(), 500u);
  for (int64_t i : t.train) EXPECT_NE(ds.recordings[i].speaker, "theo");
  auto folds = data::loso_splits(ds);
  ASSERT_EQ(folds.size(), 6u);
  for (const auto& f : folds) EXPECT_EQ(f.test.size(), 500u);
}

TEST(Splits, RandomIsSeededAndDisjoint) {
  data::Fsdd ds;
  for (int i = 0; i < 100; ++i) ds.recordings.push_back({"f" + std::to_string(i), i % 10, "s", i});
  auto a = data::make_split(ds, "random", 0.25, 1), b = data::make_split(ds, "random", 0.25, 1);
  auto c = data::make_split(ds, "random", 0.25, 2);
  EXPECT_EQ(a.test, b.test);
  EXPECT_NE(a.test, c.test);
  std::set<int64_t> all(a.train.begin(), a.train.end());
  for (int64_t i : a.test) EXPECT_TRUE(all.insert(i).second);
  EXPECT_EQ(all.size(), 100u);
  EXPECT_THROW(data::make_split(ds, "speaker:nobody"), Error);
  EXPECT_THROW(data::make_split(ds, "bogus"), Error);
  EXPECT_THROW(data::make_split(ds, "random", 1.5, 0), Error);
}

TEST(Mnist, RealDataLoads) {
  if (!fs::exists(kShared + "/mnist")) GTEST_SKIP() << "no data at " << kShared;
  auto test = data::load_mnist(kShared, "test");
  EXPECT_EQ(test.count, 10000);
  EXPECT_EQ(test.rows, 28);
}
