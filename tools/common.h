// Helpers shared by the subcommands.
#pragma once
#include <string>

#include "engine/device.h"

namespace duet::cli {

// "" picks cuda when a GPU is present (and says so), else cpu; "cuda" without a GPU is an
// error; anything else but "cpu" is an error.
Device choose_device(const std::string& requested);

}  // namespace duet::cli
