// Helpers shared by the subcommands.
#pragma once
#include <filesystem>
#include <initializer_list>
#include <string>

#include "engine/device.h"

namespace duet::cli {

// "" picks cuda when a GPU is present (and says so), else cpu; "cuda" without a GPU is an
// error; anything else but "cpu" is an error.
Device choose_device(const std::string& requested);

// Whether p's extension, in lower case, is one of `exts` (".wav", ".png", ...).
bool has_extension(const std::filesystem::path& p, std::initializer_list<const char*> exts);

}  // namespace duet::cli
