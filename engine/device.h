// Devices and the thin runtime layer under tensors: memory, copies, the stream.
//
// Every CUDA call in the engine goes through this header. The build picks one of two
// implementations: cuda_runtime.cpp (CUDA toolkit present) or cuda_runtime_none.cpp
// (CPU-only build), in which no CUDA device ever exists and any attempt to use one is a
// clear error.
#pragma once
#include <cstddef>
#include <string>

struct CUstream_st;  // the type behind cudaStream_t; declared here so no CUDA header leaks

namespace duet {

enum class Device { cpu, cuda };

std::string to_string(Device d);
Device parse_device(const std::string& s);  // "cpu" | "cuda"; anything else throws

using Stream = CUstream_st*;

namespace cuda {

bool built_with_cuda();
int device_count();        // 0 when no GPU or no CUDA build
bool available();          // device_count() > 0
std::string device_name(); // name of device 0, "" when none
void require();  // throws a clear error when no usable GPU

Stream stream();           // the engine's one compute stream
void synchronize();        // waits for the stream

// Caching allocator: freed blocks are kept by size and handed out again, so a training
// step after the first makes no cudaMalloc. release_cache() returns them to the driver.
void* allocate(std::size_t bytes);
void deallocate(void* p, std::size_t bytes);
void release_cache();
// Modules that keep device state of their own (cuFFT plans, constant tables) register a
// function that frees it. release_all() runs those, newest first, then release_cache():
// called when no device tensor is alive any more (end of `duet`, end of the GPU tests), it
// leaves nothing allocated, so compute-sanitizer's leak check reports real leaks only.
void at_release(void (*fn)());
void release_all();
struct AllocatorStats {
  std::size_t device_mallocs = 0;   // cudaMalloc calls so far
  std::size_t bytes_in_use = 0;
  std::size_t bytes_cached = 0;
};
AllocatorStats allocator_stats();

void copy_host_to_device(void* dst, const void* src, std::size_t bytes);
void copy_device_to_host(void* dst, const void* src, std::size_t bytes);  // synchronises
void copy_device_to_device(void* dst, const void* src, std::size_t bytes);
void memset_zero(void* dst, std::size_t bytes);

// Throws with the kernel's name when the last launch failed.
void check_launch(const char* what);

}  // namespace cuda
}  // namespace duet

// Calls a CUDA launcher in a CUDA build; in a CPU-only build the same line throws, so op
// dispatch code is written once and the CPU/CUDA split stays a matter of which files build.
#ifdef DUET_HAVE_CUDA
#define DUET_CUDA_CALL(call) (call)
#else
#define DUET_CUDA_CALL(call) ::duet::cuda::require()
#endif
