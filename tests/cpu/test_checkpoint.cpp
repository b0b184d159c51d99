// safetensors checkpoints: round trip, and every way a file can be wrong.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "engine/checkpoint.h"
#include "engine/error.h"
#include "tests/cpu/scratch.h"

using namespace duet;
namespace fs = std::filesystem;

namespace {
const duet_test::ScratchFolder kScratch("duet_ckpt_");
fs::path tmp_dir() { return kScratch.path(); }

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_all(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary);
  out << s;
}

std::string with_header(const std::string& json, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = char((json.size() >> (8 * i)) & 0xff);
  return out + json + data;
}

void expect_error_mentions(const fs::path& p, const std::string& needle) {
  try {
    load_safetensors(p.string());
    FAIL() << "expected an error for " << p;
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  }
}
}  // namespace

TEST(Checkpoint, RoundTripKeepsValuesShapesAndMetadata) {
  fs::path p = tmp_dir() / "rt.safetensors";
  TensorMap m;
  m["a.weight"] = Tensor::from_vector<float>({1.5f, -2, 3, 4, 5, 6}, {2, 3});
  m["b"] = Tensor::from_vector<int32_t>({7, 8}, {2});
  m["c"] = Tensor::from_vector<double>({0.25}, {});
  save_safetensors(p.string(), m, {{"model", "audio:seed"}});
  Metadata meta;
  TensorMap r = load_safetensors(p.string(), &meta);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r["a.weight"].shape(), (Shape{2, 3}));
  EXPECT_EQ(r["a.weight"].to_vector<float>(), m["a.weight"].to_vector<float>());
  EXPECT_EQ(r["b"].to_vector<int32_t>(), (std::vector<int32_t>{7, 8}));
  EXPECT_EQ(r["c"].shape(), Shape{});
  EXPECT_EQ(meta["model"], "audio:seed");
  // Header length is a multiple of 8, so the data is aligned.
  std::string bytes = read_all(p);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(uint8_t(bytes[i])) << (8 * i);
  EXPECT_EQ(n % 8, 0u);
  // The metadata alone, read from the header.
  EXPECT_EQ(load_safetensors_metadata(p.string()), (Metadata{{"model", "audio:seed"}}));
}

TEST(Checkpoint, ParametersLoadByNameAndRejectMismatch) {
  fs::path p = tmp_dir() / "params.safetensors";
  Parameters a;
  a.create("w", {2, 2}).copy_(Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2}));
  a.create("b", {2});
  save_parameters(p.string(), a);

  Parameters same;
  Tensor w = same.create("w", {2, 2});
  same.create("b", {2});
  load_parameters(p.string(), same);
  EXPECT_EQ(w.to_vector<float>(), (std::vector<float>{1, 2, 3, 4}));

  Parameters wrong_shape;
  wrong_shape.create("w", {4});
  wrong_shape.create("b", {2});
  EXPECT_THROW(load_parameters(p.string(), wrong_shape), Error);

  Parameters missing;
  missing.create("w", {2, 2});
  missing.create("b", {2});
  missing.create("extra", {1});
  EXPECT_THROW(load_parameters(p.string(), missing), Error);

  Parameters fewer;
  fewer.create("w", {2, 2});
  EXPECT_THROW(load_parameters(p.string(), fewer), Error);  // checkpoint has 'b' the model lacks
}

TEST(Checkpoint, BadFilesGiveClearErrors) {
  fs::path d = tmp_dir();
  fs::path good = d / "good.safetensors";
  save_safetensors(good.string(), {{"x", Tensor::from_vector<float>({1, 2, 3, 4}, {4})}});
  std::string bytes = read_all(good);

  write_all(d / "empty.safetensors", "");
  expect_error_mentions(d / "empty.safetensors", "truncated");

  write_all(d / "trunc.safetensors", bytes.substr(0, bytes.size() - 3));
  expect_error_mentions(d / "trunc.safetensors", "truncated");

  write_all(d / "hdr.safetensors", bytes.substr(0, 20));
  expect_error_mentions(d / "hdr.safetensors", "exceeds the file");

  write_all(d / "json.safetensors", with_header("{not json!", ""));
  expect_error_mentions(d / "json.safetensors", "JSON");

  write_all(d / "dtype.safetensors",
            with_header(R"({"x":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}})", "abcd"));
  expect_error_mentions(d / "dtype.safetensors", "BF16");

  write_all(d / "size.safetensors",
            with_header(R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", "abcdefgh"));
  expect_error_mentions(d / "size.safetensors", "needs 12 bytes");

  write_all(d / "fields.safetensors", with_header(R"({"x":{"dtype":"F32"}})", ""));
  expect_error_mentions(d / "fields.safetensors", "corrupt");

  std::string huge(8, '\xff');
  write_all(d / "huge.safetensors", huge + "{}");
  expect_error_mentions(d / "huge.safetensors", "exceeds the file");

  EXPECT_THROW(load_safetensors((d / "absent.safetensors").string()), Error);

  // A folder where the file should be (it opens on Linux, and reading it fails).
  fs::create_directories(d / "folder.safetensors");
  expect_error_mentions(d / "folder.safetensors", "is a folder, not a checkpoint file");

  // Reading the metadata alone checks the header the same way, and the metadata's values.
  EXPECT_THROW(load_safetensors_metadata((d / "hdr.safetensors").string()), Error);
  EXPECT_THROW(load_safetensors_metadata((d / "json.safetensors").string()), Error);
  write_all(d / "meta.safetensors", with_header(R"({"__metadata__":{"epochs":3}})", ""));
  for (auto read : {+[](const std::string& f) {
                      Metadata meta;
                      load_safetensors(f, &meta);
                    },
                    +[](const std::string& f) { load_safetensors_metadata(f); }}) {
    try {
      read((d / "meta.safetensors").string());
      ADD_FAILURE() << "a number as a metadata value was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("corrupt checkpoint metadata"), std::string::npos) << e.what();
    }
  }
}

TEST(Checkpoint, FailedSaveKeepsOldFile) {
  fs::path d = tmp_dir();
  EXPECT_THROW(save_safetensors((d / "no_such_dir" / "x.safetensors").string(), {}), Error);
}
