// Checkpoints in the safetensors format, readable by `safetensors.numpy.load_file`:
//   8 bytes: N, the header length (unsigned little-endian)
//   N bytes: JSON {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
//                  "__metadata__": {"key": "value", ...}}   (padded with spaces)
//   the tensors' bytes, back to back, offsets relative to the end of the header.
// Reading checks every size and offset against the file, so a truncated or corrupt file is
// a clear error naming the file, never a crash.
#pragma once
#include <map>
#include <string>

#include "engine/params.h"
#include "engine/tensor.h"

namespace duet {

using TensorMap = std::map<std::string, Tensor>;
using Metadata = std::map<std::string, std::string>;

void save_safetensors(const std::string& path, const TensorMap& tensors, const Metadata& meta = {});
TensorMap load_safetensors(const std::string& path, Metadata* meta = nullptr);  // CPU tensors
// The header's metadata alone, without reading the tensors.
Metadata load_safetensors_metadata(const std::string& path);

void save_parameters(const std::string& path, const Parameters& params, const Metadata& meta = {});
// Loads every parameter by name; a missing name or a shape mismatch is an error naming both.
void load_parameters(const std::string& path, Parameters& params, Metadata* meta = nullptr);
// The same check and copy from tensors already read (source names them in errors); every
// tensor of m must be a parameter or buffer.
void assign_parameters(const TensorMap& m, Parameters& params, const std::string& source);

}  // namespace duet
