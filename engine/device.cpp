#include "engine/device.h"

#include "engine/error.h"

namespace duet {

std::string to_string(Device d) { return d == Device::cpu ? "cpu" : "cuda"; }

Device parse_device(const std::string& s) {
  if (s == "cpu") return Device::cpu;
  if (s == "cuda" || s == "gpu") return Device::cuda;
  fail("unknown device '", s, "': expected cpu or cuda");
}

}  // namespace duet
