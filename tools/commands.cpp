#include "tools/commands.h"

#include <cstdio>
#include <functional>
#include <map>

#include "engine/error.h"

namespace duet::cli {
namespace {

struct Command {
  std::function<int(const Argv&)> fn;
  const char* summary;
};

const std::map<std::string, Command>& commands() {
  static const std::map<std::string, Command> table = {
      {"demo", {cmd_demo, "train a tiny CNN on synthetic images (checks the whole engine)"}},
      {"checkpoint", {cmd_checkpoint, "list the tensors in a .safetensors file (--json: with values)"}},
      {"devices", {cmd_devices, "say whether duet was built with CUDA and which GPU it sees"}},
      {"info", {cmd_info, "summarise and check the data sets, or describe one WAV file"}},
      {"split", {cmd_split, "write train/test CSV files for a split of the spoken digits"}},
      {"show", {cmd_show, "draw a recording's waveform and mel spectrogram to a PNG"}},
      {"train", {cmd_train, "train an audio, image or fusion model (metrics, curves, checkpoint)"}},
      {"eval", {cmd_eval, "test accuracy of a trained model (or on your own files); robustness tables"}},
      {"predict", {cmd_predict, "classify one recording and/or one picture of a digit"}},
      {"fonts", {cmd_fonts, "render the digits in every font of a folder (printed digits for eval --inputs)"}},
      {"bench", {cmd_bench, "time the front-end and a training epoch of each model on the real data"}},
      {"gradcheck", {cmd_gradcheck, "check every op's gradient against finite differences (float64)"}},
  };
  return table;
}

void usage(std::FILE* to) {
  std::fprintf(to, "usage: duet <command> [options]   (duet <command> --help for its options)\n\ncommands:\n");
  for (const auto& [name, c] : commands()) std::fprintf(to, "  %-11s %s\n", name.c_str(), c.summary);
}

}  // namespace

int run(const Argv& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    usage(stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::printf("duet 0.1.0\n");
    return 0;
  }
  auto it = commands().find(args[0]);
  if (it == commands().end()) fail("unknown command '", args[0], "' (run 'duet --help' for the list)");
  return it->second.fn(Argv(args.begin() + 1, args.end()));
}

}  // namespace duet::cli
