// After the last GPU test, every device block the engine still holds (the allocator's
// cache, cuFFT plans, constant tables) goes back to the driver, so that
// `compute-sanitizer --leak-check full` on this binary reports only real leaks.
#include <gtest/gtest.h>

#include "engine/device.h"

namespace {
class ReleaseDeviceMemory : public ::testing::Environment {
 public:
  void TearDown() override { duet::cuda::release_all(); }
};
const auto* const registered = ::testing::AddGlobalTestEnvironment(new ReleaseDeviceMemory);
}  // namespace
