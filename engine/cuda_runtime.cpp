// The runtime of a CUDA build: device queries, one stream, a caching allocator, copies.
#include <cuda_runtime.h>

#include <map>
#include <mutex>
#include <vector>

#include "engine/device.h"
#include "engine/error.h"

namespace duet::cuda {
namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) fail("CUDA error in ", what, ": ", cudaGetErrorString(e));
}

// Blocks are rounded up to 512 bytes and kept in per-size free lists. Training allocates
// the same shapes every step, so after the first step every request is served from cache.
struct CachingAllocator {
  std::mutex mu;
  std::map<std::size_t, std::vector<void*>> free_blocks;
  AllocatorStats stats;

  static std::size_t round(std::size_t n) { return (n + 511) / 512 * 512; }

  void* allocate(std::size_t bytes) {
    std::size_t n = round(bytes == 0 ? 1 : bytes);
    std::lock_guard<std::mutex> lock(mu);
    auto it = free_blocks.find(n);
    if (it != free_blocks.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      stats.bytes_cached -= n;
      stats.bytes_in_use += n;
      return p;
    }
    void* p = nullptr;
    cudaError_t e = cudaMalloc(&p, n);
    if (e != cudaSuccess) {  // give the cache back to the driver and try once more
      (void)cudaGetLastError();
      release_locked();
      check(cudaMalloc(&p, n), "cudaMalloc");
    }
    ++stats.device_mallocs;
    stats.bytes_in_use += n;
    return p;
  }

  void deallocate(void* p, std::size_t bytes) {
    if (!p) return;
    std::size_t n = round(bytes == 0 ? 1 : bytes);
    std::lock_guard<std::mutex> lock(mu);
    free_blocks[n].push_back(p);
    stats.bytes_in_use -= n;
    stats.bytes_cached += n;
  }

  void release_locked() {
    cudaDeviceSynchronize();
    for (auto& [n, v] : free_blocks)
      for (void* p : v) cudaFree(p);
    free_blocks.clear();
    stats.bytes_cached = 0;
  }
};

CachingAllocator& allocator() {
  static auto* a = new CachingAllocator();  // never destroyed: blocks may outlive statics
  return *a;
}

}  // namespace

bool built_with_cuda() { return true; }

int device_count() {
  static int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      (void)cudaGetLastError();
      return 0;
    }
    return n;
  }();
  return count;
}

bool available() { return device_count() > 0; }

std::string device_name() {
  if (!available()) return "";
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
  return prop.name;
}

void require() {
  if (!available()) fail("no CUDA device is available (use --device cpu)");
}

Stream stream() {
  static cudaStream_t s = [] {
    require();
    cudaStream_t st;
    check(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking), "cudaStreamCreate");
    return st;
  }();
  return s;
}

void synchronize() {
  if (available()) check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize");
}

void* allocate(std::size_t bytes) {
  require();
  return allocator().allocate(bytes);
}
void deallocate(void* p, std::size_t bytes) { allocator().deallocate(p, bytes); }
void release_cache() {
  std::lock_guard<std::mutex> lock(allocator().mu);
  allocator().release_locked();
}
namespace {
std::mutex& release_mu() {
  static auto* m = new std::mutex();
  return *m;
}
std::vector<void (*)()>& release_fns() {
  static auto* v = new std::vector<void (*)()>();
  return *v;
}
}  // namespace
void at_release(void (*fn)()) {
  std::lock_guard<std::mutex> lock(release_mu());
  release_fns().push_back(fn);
}
void release_all() {
  std::vector<void (*)()> fns;
  {
    std::lock_guard<std::mutex> lock(release_mu());
    fns.swap(release_fns());
  }
  if (fns.empty() && allocator_stats().device_mallocs == 0) return;  // the device was never used
  synchronize();
  for (auto it = fns.rbegin(); it != fns.rend(); ++it) (*it)();
  release_cache();
}
AllocatorStats allocator_stats() {
  std::lock_guard<std::mutex> lock(allocator().mu);
  return allocator().stats;
}

void copy_host_to_device(void* dst, const void* src, std::size_t bytes) {
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream()), "copy host->device");
  // The host buffer may be freed as soon as we return.
  check(cudaStreamSynchronize(stream()), "copy host->device");
}
void copy_device_to_host(void* dst, const void* src, std::size_t bytes) {
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream()), "copy device->host");
  check(cudaStreamSynchronize(stream()), "copy device->host");
}
void copy_device_to_device(void* dst, const void* src, std::size_t bytes) {
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream()), "copy device->device");
}
void memset_zero(void* dst, std::size_t bytes) {
  check(cudaMemsetAsync(dst, 0, bytes, stream()), "cudaMemsetAsync");
}
void check_launch(const char* what) { check(cudaGetLastError(), what); }

}  // namespace duet::cuda
