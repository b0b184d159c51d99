#include "engine/checkpoint.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

#include "engine/error.h"

namespace duet {
namespace {

const char* st_dtype(DType t) {
  switch (t) {
    case DType::f32: return "F32";
    case DType::f64: return "F64";
    case DType::i32: return "I32";
  }
  return "?";
}

DType parse_st_dtype(const std::string& s, const std::string& path, const std::string& name) {
  if (s == "F32") return DType::f32;
  if (s == "F64") return DType::f64;
  if (s == "I32") return DType::i32;
  fail(path, ": tensor '", name, "' has dtype ", s, "; duet reads F32, F64 and I32");
}

}  // namespace

void save_safetensors(const std::string& path, const TensorMap& tensors, const Metadata& meta) {
  nlohmann::json header = nlohmann::json::object();
  std::vector<Tensor> host;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    DUET_CHECK(name != "__metadata__", "a tensor cannot be named __metadata__");
    Tensor h = t.to(Device::cpu);
    const uint64_t bytes = uint64_t(h.numel()) * dtype_size(h.dtype());
    header[name] = {{"dtype", st_dtype(h.dtype())}, {"shape", h.shape()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    host.push_back(h);
  }
  if (!meta.empty()) header["__metadata__"] = meta;
  std::string text = header.dump();
  while (text.size() % 8) text.push_back(' ');  // keeps the data 8-byte aligned
  const uint64_t n = text.size();
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = (n >> (8 * i)) & 0xff;

  // Write to a temporary name and rename, so a failed save never destroys an old checkpoint.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    DUET_CHECK(out, path, ": cannot open for writing");
    out.write(reinterpret_cast<const char*>(len), 8);
    out.write(text.data(), std::streamsize(text.size()));
    for (const Tensor& h : host)
      out.write(static_cast<const char*>(h.raw_data()), std::streamsize(h.numel() * dtype_size(h.dtype())));
    DUET_CHECK(out.good(), path, ": write failed (disk full?)");
  }
  DUET_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, path, ": cannot rename ", tmp, " into place");
}

namespace {

// Opens a safetensors file and reads its header: the JSON object, its length n and the file's
// size, every one checked against the file.
struct Header {
  std::ifstream in;
  uint64_t file_size = 0, n = 0;
  nlohmann::json json;
};

Header read_header(const std::string& path) {
  Header h;
  DUET_CHECK(!std::filesystem::is_directory(path), path, ": is a folder, not a checkpoint file");
  h.in.open(path, std::ios::binary | std::ios::ate);
  DUET_CHECK(h.in, path, ": cannot open checkpoint");
  h.file_size = uint64_t(h.in.tellg());
  h.in.seekg(0);
  DUET_CHECK(h.file_size >= 8, path, ": truncated checkpoint (", h.file_size, " bytes, no header length)");
  unsigned char len[8];
  DUET_CHECK(h.in.read(reinterpret_cast<char*>(len), 8), path, ": cannot read the header length");
  for (int i = 0; i < 8; ++i) h.n |= uint64_t(len[i]) << (8 * i);
  DUET_CHECK(h.n <= h.file_size - 8, path, ": header length ", h.n, " exceeds the file (", h.file_size, " bytes)");
  DUET_CHECK(h.n <= 100u << 20, path, ": header length ", h.n, " is absurd (over 100 MiB)");
  std::string text(h.n, '\0');
  DUET_CHECK(h.in.read(text.data(), std::streamsize(h.n)), path, ": cannot read the ", h.n, "-byte header");
  try {
    h.json = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    fail(path, ": corrupt checkpoint header (not JSON): ", e.what());
  }
  DUET_CHECK(h.json.is_object(), path, ": checkpoint header is not a JSON object");
  return h;
}

Metadata metadata_of(const nlohmann::json& header, const std::string& path) {
  Metadata meta;
  if (!header.contains("__metadata__")) return meta;
  try {
    for (auto& [k, v] : header.at("__metadata__").items()) meta[k] = v.get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": corrupt checkpoint metadata: ", e.what());
  }
  return meta;
}

}  // namespace

Metadata load_safetensors_metadata(const std::string& path) {
  const Header h = read_header(path);
  return metadata_of(h.json, path);
}

TensorMap load_safetensors(const std::string& path, Metadata* meta) {
  Header h = read_header(path);
  std::ifstream& in = h.in;
  const uint64_t file_size = h.file_size, n = h.n;
  const nlohmann::json& header = h.json;
  if (meta) *meta = metadata_of(header, path);
  const uint64_t data_size = file_size - 8 - n;
  TensorMap out;
  try {
    for (auto& [name, entry] : header.items()) {
      if (name == "__metadata__") continue;
      const DType dt = parse_st_dtype(entry.at("dtype").get<std::string>(), path, name);
      Shape shape = entry.at("shape").get<Shape>();
      auto offs = entry.at("data_offsets").get<std::vector<uint64_t>>();
      DUET_CHECK(offs.size() == 2 && offs[0] <= offs[1], path, ": tensor '", name, "' has bad data_offsets");
      DUET_CHECK(offs[1] <= data_size, path, ": tensor '", name, "' ends at byte ", offs[1], " but the file has ",
                 data_size, " data bytes (truncated?)");
      for (int64_t d : shape) DUET_CHECK(d >= 0, path, ": tensor '", name, "' has a negative dimension");
      const uint64_t bytes = uint64_t(shape_numel(shape)) * dtype_size(dt);
      DUET_CHECK(bytes == offs[1] - offs[0], path, ": tensor '", name, "' of shape ", shape_str(shape), " needs ",
                 bytes, " bytes, data_offsets give ", offs[1] - offs[0]);
      Tensor t = Tensor::empty(shape, dt, Device::cpu);
      in.seekg(std::streamoff(8 + n + offs[0]));
      in.read(static_cast<char*>(t.raw_data()), std::streamsize(bytes));
      DUET_CHECK(in.good(), path, ": read failed for tensor '", name, "'");
      out[name] = t;
    }
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": corrupt checkpoint header: ", e.what());
  }
  return out;
}

void save_parameters(const std::string& path, const Parameters& params, const Metadata& meta) {
  TensorMap m;
  for (const auto& [name, t] : params.items()) m[name] = t;
  for (const auto& [name, t] : params.buffers()) m[name] = t;
  save_safetensors(path, m, meta);
}

void load_parameters(const std::string& path, Parameters& params, Metadata* meta) {
  assign_parameters(load_safetensors(path, meta), params, path);
}

void assign_parameters(const TensorMap& m, Parameters& params, const std::string& path) {
  std::vector<std::pair<std::string, Tensor>> all = params.items();
  all.insert(all.end(), params.buffers().begin(), params.buffers().end());
  for (const auto& [name, t] : all) {
    auto it = m.find(name);
    DUET_CHECK(it != m.end(), path, ": parameter '", name, "' is missing from the checkpoint");
    DUET_CHECK(it->second.dtype() == DType::f32, path, ": parameter '", name, "' is ",
               to_string(it->second.dtype()), ", expected float32");
    DUET_CHECK(it->second.shape() == t.shape(), path, ": parameter '", name, "' has shape ",
               shape_str(it->second.shape()), ", the model expects ", shape_str(t.shape()));
    Tensor(t).copy_(it->second);
  }
  for (const auto& [name, t] : m)
    DUET_CHECK(params.find(name).defined(), path, ": checkpoint has tensor '", name, "' that the model does not");
}

}  // namespace duet
