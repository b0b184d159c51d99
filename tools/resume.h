// What lets an interrupted `duet train` continue where it stopped (duet train --resume DIR).
//
//   DIR/run.json            the command that trains DIR (its flags without --out, --resume and
//                           --stop-after), the recipe those flags made ("recipe": what a duet of
//                           other defaults would make differently) and whether it finished;
//                           written before the first epoch, marked finished when the model is
//                           saved. A leave-one-speaker-out run writes one in its folder (the loso
//                           command, no recipe) and one in each fold's folder (the fold's own
//                           command, --split speaker:NAME).
//   DIR/resume.safetensors  after every epoch but the last: the parameters and buffers, the SGD
//                           velocity ("sgd.velocity"), the order of the training examples
//                           ("trainer.order"), with --average-last the weight average so far
//                           ("trainer.weight_average") and, in the metadata "duet_resume", the
//                           epochs done, the steps taken, the trainer's random generator, the
//                           metrics so far and how many epochs the average holds ("averaged").
//                           Written to a temporary name and renamed, so an interrupt leaves the
//                           previous epoch's state whole; removed when the model is saved.
//
// Resuming rebuilds the task from run.json's flags (the same seed gives the same split, data
// and initialisation), loads the state over it and trains the remaining epochs: on the CPU
// the model is bit-identical to an uninterrupted run's. When the same flags make another recipe
// than the one recorded (a duet whose defaults changed since the training started), resuming
// would train one model with two recipes, so it is refused (check_same_recipe).
#pragma once
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "models/trainer.h"
#include "tools/commands.h"

namespace duet::cli {

struct RunRecord {
  Argv args;  // flags of duet train, without --out, --resume and --stop-after
  bool finished = false;
  nlohmann::json recipe;  // null: not recorded (a leave-one-speaker-out root; folders before it)
};

void write_run_record(const std::string& dir, const RunRecord& record);
// Throws naming DIR/run.json when it is missing or not a duet run record.
RunRecord read_run_record(const std::string& dir);
bool has_run_record(const std::string& dir);
// Throws, naming DIR/run.json and the first setting that differs, when `recorded` (the recipe
// DIR's training started with) is not `now` (the recipe the same flags make now); a record
// without a recipe is not checked.
void check_same_recipe(const std::string& dir, const nlohmann::json& recorded, const nlohmann::json& now);

void save_train_state(const std::string& dir, models::Task& task, const models::TrainState& state);
// Loads DIR/resume.safetensors into the task's parameters and buffers and returns the rest;
// nullopt when DIR has none. A corrupt file or one of another model is an error naming it.
std::optional<models::TrainState> load_train_state(const std::string& dir, models::Task& task);
// The epochs DIR/resume.safetensors has done, read from its header alone: 0 when there is
// none, -1 when it cannot be read (a new training replaces it either way).
int saved_epochs(const std::string& dir);
void remove_train_state(const std::string& dir);

// While a training runs, Ctrl-C (SIGINT) and SIGTERM (timeout, a job scheduler) end duet after
// writing `message` as one line on stderr, so the user learns how to go on; the process then
// ends by the signal as it would have (exit status 130 or 143 in a shell). An empty message
// stops saying anything. A signal that was ignored when duet started (a background job's
// SIGINT) stays ignored.
void say_on_interrupt(const std::string& message);

// argv without the flag --NAME (and its value unless it is a switch), in either form
// (--NAME VALUE, --NAME=VALUE).
Argv without_flag(const Argv& argv, const std::string& name, bool is_switch = false);

}  // namespace duet::cli
