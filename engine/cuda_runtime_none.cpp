// The runtime of a CPU-only build: there is never a CUDA device.
#include "engine/device.h"
#include "engine/error.h"

namespace duet::cuda {

bool built_with_cuda() { return false; }
int device_count() { return 0; }
bool available() { return false; }
std::string device_name() { return ""; }
void require() { fail("this duet was built without CUDA (configure with the CUDA toolkit and -DDUET_CUDA=ON)"); }
Stream stream() { require(); return nullptr; }
void synchronize() {}
void* allocate(std::size_t) { require(); return nullptr; }
void deallocate(void*, std::size_t) {}
void release_cache() {}
void at_release(void (*)()) {}
void release_all() {}
AllocatorStats allocator_stats() { return {}; }
void copy_host_to_device(void*, const void*, std::size_t) { require(); }
void copy_device_to_host(void*, const void*, std::size_t) { require(); }
void copy_device_to_device(void*, const void*, std::size_t) { require(); }
void memset_zero(void*, std::size_t) { require(); }
void check_launch(const char*) {}

}  // namespace duet::cuda
