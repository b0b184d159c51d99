#include "engine/device.h"

#include "engine/error.h"

namespace duet {

std::string to_string(Device d) { return d == Device::cpu ? "cpu" : "cuda"; }

Device parse_device(const std::string& s) {
  if (s == "cpu") return Device::cpu;
  if (s == "cuda" || s == "gpu") return Device::cuda;
  fail("unknown device '", s, "': expected cpu or cuda");
}

bool parse_gemm_pipeline(const char* value) {
  if (value == nullptr || std::string(value) == "1") return true;
  if (std::string(value) == "0") return false;
  fail("environment variable DUET_GEMM_PIPELINE expects 0 (single-buffered GEMM) or 1 (double-buffered), got '",
       value, "'");
}

}  // namespace duet
