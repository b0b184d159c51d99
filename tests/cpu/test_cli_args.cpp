// The command-line parser shared by every duet command (tools/args.h).
#include <gtest/gtest.h>

#include "engine/error.h"
#include "tools/args.h"

using duet::cli::Args;

namespace {
Args parse(const std::vector<std::string>& argv) {
  return Args(argv, {"epochs", "out", "lr"}, {"json"}, "train");
}

std::string error_of(const std::vector<std::string>& argv) {
  try {
    parse(argv);
  } catch (const duet::Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Args, OptionsSwitchesAndPositionals) {
  const Args a = parse({"--epochs", "3", "--lr=0.5", "file.wav", "--json"});
  EXPECT_EQ(a.integer("epochs", 1, 1, 100), 3);
  EXPECT_DOUBLE_EQ(a.number("lr", 0.1, 0, 1), 0.5);
  EXPECT_TRUE(a.flag("json"));
  EXPECT_FALSE(a.has("out"));
  EXPECT_EQ(a.str("out", "runs"), "runs");
  EXPECT_EQ(a.positional(), std::vector<std::string>{"file.wav"});
}

TEST(Args, GivenNamesEveryOptionAndSwitchOnceIncludingTheShortOut) {
  EXPECT_EQ(parse({}).given(), std::vector<std::string>{});
  const std::vector<std::string> expected{"epochs", "json", "out"};
  EXPECT_EQ(parse({"--json", "-o", "dir", "--epochs", "2", "--epochs", "4"}).given(), expected);
}

TEST(Args, WrongUsesNameTheFlag) {
  EXPECT_NE(error_of({"--epoch", "3"}).find("train: unknown option --epoch (did you mean --epochs?)"),
            std::string::npos);
  EXPECT_NE(error_of({"--epochs"}).find("train: --epochs needs a value"), std::string::npos);
  EXPECT_NE(error_of({"--json=yes"}).find("train: --json takes no value"), std::string::npos);
  try {
    parse({"--epochs", "x"}).integer("epochs", 1, 1, 100);
    FAIL() << "a word for --epochs was accepted";
  } catch (const duet::Error& e) {
    EXPECT_NE(std::string(e.what()).find("train: --epochs expects an integer, got 'x'"), std::string::npos);
  }
  try {
    parse({"--epochs", "500"}).integer("epochs", 1, 1, 100);
    FAIL() << "an out-of-range --epochs was accepted";
  } catch (const duet::Error& e) {
    EXPECT_NE(std::string(e.what()).find("train: --epochs must be in [1, 100], got 500"), std::string::npos);
  }
}
