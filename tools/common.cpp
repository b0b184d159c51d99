#include "tools/common.h"

#include <cctype>
#include <cstdio>

#include "engine/error.h"

namespace duet::cli {

Device choose_device(const std::string& requested) {
  if (requested.empty()) {
    if (cuda::available()) return Device::cuda;
    std::fprintf(stderr, "duet: no GPU found%s; running on the CPU\n",
                 cuda::built_with_cuda() ? "" : " (built without CUDA)");
    return Device::cpu;
  }
  Device d;
  try {
    d = parse_device(requested);
  } catch (const Error&) {
    fail("--device expects cpu or cuda, got '", requested, "'");
  }
  if (d == Device::cuda && !cuda::available())
    fail("--device cuda: ", cuda::built_with_cuda() ? "no CUDA device is available" : "this duet was built without CUDA",
         " (use --device cpu)");
  return d;
}

bool has_extension(const std::filesystem::path& p, std::initializer_list<const char*> exts) {
  std::string e = p.extension().string();
  for (char& c : e) c = char(std::tolower(static_cast<unsigned char>(c)));
  for (const char* x : exts)
    if (e == x) return true;
  return false;
}

}  // namespace duet::cli
