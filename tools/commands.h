// The subcommands of the duet binary. Each returns the process exit code and throws
// duet::Error for anything the user got wrong (main() prints it as one line).
#pragma once
#include <string>
#include <vector>

namespace duet::cli {

using Argv = std::vector<std::string>;

int run(const Argv& args);

int cmd_demo(const Argv& args);
int cmd_checkpoint(const Argv& args);
int cmd_devices(const Argv& args);
int cmd_info(const Argv& args);
int cmd_split(const Argv& args);
int cmd_show(const Argv& args);
int cmd_train(const Argv& args);
int cmd_eval(const Argv& args);
int cmd_predict(const Argv& args);
int cmd_bench(const Argv& args);
int cmd_gradcheck(const Argv& args);
int cmd_fonts(const Argv& args);

}  // namespace duet::cli
