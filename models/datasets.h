// The two data sets and their splits.
//
// FSDD (spoken digits): a folder searched recursively for `{digit}_{speaker}_{index}.wav`.
// A .wav whose name does not match is reported (never guessed at) and left out.
// MNIST: the four IDX files, gzip-compressed or raw.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace duet::data {

// --data DIR, else $DUET_DATA, else ./data.
std::string resolve_data_dir(const std::string& flag);

struct Recording {
  std::string path;
  int digit = 0;
  std::string speaker;
  int index = 0;
};

struct Fsdd {
  std::string root;
  std::vector<Recording> recordings;       // sorted by path
  std::vector<std::string> skipped;        // .wav files whose names do not match the pattern
  std::vector<std::string> speakers() const;  // sorted, unique
};

// Parses "7_theo_12.wav"; false when the name does not match.
bool parse_recording_name(const std::string& filename, Recording* out);
// root is the data folder (looks in root/fsdd/recordings, root/fsdd, root) or a folder of WAVs.
Fsdd load_fsdd(const std::string& root);

struct Mnist {
  int64_t count = 0, rows = 0, cols = 0;
  std::vector<uint8_t> pixels;  // count * rows * cols
  std::vector<uint8_t> labels;  // count
};

// One images/labels pair; each file may be gzip or raw IDX.
Mnist load_mnist_files(const std::string& images_path, const std::string& labels_path);
// "train" or "test" from root/mnist (or root): *-images-idx3-ubyte[.gz].
Mnist load_mnist(const std::string& root, const std::string& which);
std::vector<uint8_t> read_maybe_gzip(const std::string& path);

// ---- splits -------------------------------------------------------------------------------
struct Split {
  std::string name;
  std::vector<int64_t> train, test;  // indices into Fsdd::recordings; train in a seeded random order
};

// "random" (fraction of test, seed), "official" (take 0-4 test), "speaker:NAME".
Split make_split(const Fsdd& ds, const std::string& spec, double test_fraction = 0.25, uint64_t seed = 0);
// The 6-fold leave-one-speaker-out set, one Split per speaker.
std::vector<Split> loso_splits(const Fsdd& ds);

}  // namespace duet::data
