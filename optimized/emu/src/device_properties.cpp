// The emulated device: presets (a100, h100) or a JSON file named by LLMLAB_EMU_DEVICE, and the
// runtime calls that answer from it or enforce its limits — cudaGetDeviceProperties,
// cudaDeviceGetAttribute, cudaFuncSetAttribute / cudaFuncGetAttributes (dynamic shared memory
// opt-in) and cudaOccupancyMaxActiveBlocksPerMultiprocessor. See docs/emulator.md, "The emulated
// device".

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <unordered_map>

#include "device.hpp"
#include "runtime_state.hpp"

namespace llmlab::emu::detail {
namespace {

EmulatedDevice a100() {
  EmulatedDevice d;
  d.name = "llmlab emulated A100 (SXM4 80GB)";
  d.sm_count = 108;
  d.shared_per_block = 48 * 1024;
  d.shared_per_block_optin = 163 * 1024;
  d.shared_per_sm = 164 * 1024;
  d.reserved_shared_per_block = 1024;
  d.major = 8;
  d.minor = 0;
  d.clock_khz = 1410000;
  d.global_memory = 80ull << 30;
  d.l2_cache_bytes = 40 << 20;
  d.memory_clock_khz = 1593000;  // HBM2e: 2 × 1593 MHz × 5120 bits / 8 = 2.04 TB/s
  d.memory_bus_width = 5120;
  d.fp32_lanes_per_sm = 64;  // 2 × 64 × 108 × 1.41 GHz = 19.5 TFLOP/s fp32 (no tensor cores)
  return d;
}

EmulatedDevice h100() {
  EmulatedDevice d;
  d.name = "llmlab emulated H100 (SXM5 80GB)";
  d.sm_count = 132;
  d.shared_per_block = 48 * 1024;
  d.shared_per_block_optin = 227 * 1024;
  d.shared_per_sm = 228 * 1024;
  d.reserved_shared_per_block = 1024;
  d.major = 9;
  d.minor = 0;
  d.clock_khz = 1980000;
  d.global_memory = 80ull << 30;
  d.l2_cache_bytes = 50 << 20;
  d.memory_clock_khz = 2619000;  // HBM3: 2 × 2619 MHz × 5120 bits / 8 = 3.35 TB/s
  d.memory_bus_width = 5120;
  d.fp32_lanes_per_sm = 128;  // 2 × 128 × 132 × 1.98 GHz = 66.9 TFLOP/s fp32 (no tensor cores)
  return d;
}

bool preset(const std::string& name, EmulatedDevice& d) {
  if (name == "a100") d = a100();
  else if (name == "h100") d = h100();
  else return false;
  return true;
}

// A JSON file: {"base": "h100", "name": "...", "sm_count": 132, ...}; keys not given keep the
// base preset's value (h100 if no base). Unknown keys are refused, so a typo cannot go unnoticed.
EmulatedDevice from_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open the device file '" + path + "'");
  const nlohmann::json j = nlohmann::json::parse(in);
  if (!j.is_object()) throw std::runtime_error("'" + path + "' is not a JSON object");
  EmulatedDevice d = h100();
  if (j.contains("base") && !preset(j.at("base").get<std::string>(), d))
    throw std::runtime_error("'" + path + "': base must be a100 or h100");
  for (const auto& [key, v] : j.items()) {
    if (key == "base") continue;
    else if (key == "name") d.name = v.get<std::string>();
    else if (key == "sm_count") d.sm_count = v.get<int>();
    else if (key == "shared_memory_per_block") d.shared_per_block = v.get<std::size_t>();
    else if (key == "shared_memory_per_block_optin") d.shared_per_block_optin = v.get<std::size_t>();
    else if (key == "shared_memory_per_sm") d.shared_per_sm = v.get<std::size_t>();
    else if (key == "reserved_shared_memory_per_block") d.reserved_shared_per_block = v.get<std::size_t>();
    else if (key == "warp_size") d.warp_size = v.get<int>();
    else if (key == "compute_capability") {
      const auto cc = v.get<std::vector<int>>();
      if (cc.size() != 2) throw std::runtime_error("'" + path + "': compute_capability is [major, minor]");
      d.major = cc[0];
      d.minor = cc[1];
    } else if (key == "max_threads_per_block") d.max_threads_per_block = v.get<int>();
    else if (key == "max_threads_per_sm") d.max_threads_per_sm = v.get<int>();
    else if (key == "max_blocks_per_sm") d.max_blocks_per_sm = v.get<int>();
    else if (key == "registers_per_block") d.registers_per_block = v.get<int>();
    else if (key == "registers_per_sm") d.registers_per_sm = v.get<int>();
    else if (key == "clock_khz") d.clock_khz = v.get<int>();
    else if (key == "global_memory_bytes") d.global_memory = v.get<std::size_t>();
    else if (key == "l2_cache_bytes") d.l2_cache_bytes = v.get<int>();
    else if (key == "memory_clock_khz") d.memory_clock_khz = v.get<int>();
    else if (key == "memory_bus_width") d.memory_bus_width = v.get<int>();
    else if (key == "fp32_lanes_per_sm") d.fp32_lanes_per_sm = v.get<int>();
    else throw std::runtime_error("'" + path + "': unknown key '" + key + "'");
  }
  if (d.warp_size != 32)
    throw std::runtime_error("'" + path + "': warp_size must be 32 (the emulator's warpSize)");
  if (d.sm_count <= 0 || d.max_threads_per_block <= 0 || d.max_threads_per_block > 1024 ||
      d.max_threads_per_sm < d.max_threads_per_block || d.max_blocks_per_sm <= 0)
    throw std::runtime_error("'" + path + "': sm_count, max_blocks_per_sm must be positive and "
                             "max_threads_per_block in 1..1024, at most max_threads_per_sm");
  if (d.shared_per_block > d.shared_per_block_optin || d.shared_per_block_optin > d.shared_per_sm)
    throw std::runtime_error("'" + path + "': need shared_memory_per_block ≤ "
                             "shared_memory_per_block_optin ≤ shared_memory_per_sm");
  return d;
}

std::mutex device_mutex;
std::string loaded_for = "\x01";  // the LLMLAB_EMU_DEVICE value `loaded` was made from
EmulatedDevice loaded;
std::string load_error;
std::unordered_map<const void*, int> max_dynamic_shared;  // cudaFuncSetAttribute's opt-ins

}  // namespace

const EmulatedDevice& emulated_device(std::string* error) {
  std::lock_guard lock(device_mutex);
  const char* env = std::getenv("LLMLAB_EMU_DEVICE");
  const std::string value = env ? env : "";
  if (value != loaded_for) {
    loaded_for = value;
    load_error.clear();
    if (value.empty() || preset(value, loaded)) {
      if (value.empty()) loaded = h100();
    } else {
      try {
        loaded = from_json(value);
      } catch (const std::exception& e) {
        loaded = h100();
        load_error = "llmlab emu: LLMLAB_EMU_DEVICE='" + value + "' is neither a100, h100 nor a valid "
                     "device file: " + e.what();
      }
    }
  }
  if (error) *error = load_error;
  return loaded;
}

std::string dynamic_shared_error(const void* kernel, std::size_t bytes) {
  const EmulatedDevice& d = emulated_device();
  std::lock_guard lock(device_mutex);
  const auto it = max_dynamic_shared.find(kernel);
  std::ostringstream s;
  if (it == max_dynamic_shared.end()) {
    if (bytes <= d.shared_per_block) return "";
    s << "asks for " << bytes << " bytes of dynamic shared memory, more than the " << d.shared_per_block
      << " bytes a block may use without opting in: call cudaFuncSetAttribute(kernel, "
         "cudaFuncAttributeMaxDynamicSharedMemorySize, bytes) first (at most "
      << d.shared_per_block_optin << " on " << d.name << ")";
  } else {
    if (bytes <= static_cast<std::size_t>(it->second)) return "";
    s << "asks for " << bytes << " bytes of dynamic shared memory, more than the " << it->second
      << " bytes opted in with cudaFuncSetAttribute(cudaFuncAttributeMaxDynamicSharedMemorySize)";
  }
  return s.str();
}

}  // namespace llmlab::emu::detail

namespace {
using llmlab::emu::detail::EmulatedDevice;

// The device for a runtime call on `device`, or an error (a bad ordinal, a bad LLMLAB_EMU_DEVICE).
cudaError_t device_for(int device, const EmulatedDevice*& d) {
  if (device != 0) return cudaErrorInvalidDevice;
  std::string error;
  d = &llmlab::emu::detail::emulated_device(&error);
  if (!error.empty()) {
    llmlab::emu::detail::record_error(cudaErrorInvalidValue, error);
    return cudaErrorInvalidValue;
  }
  return cudaSuccess;
}

int dynamic_limit(const void* func, const EmulatedDevice& d) {
  std::lock_guard lock(llmlab::emu::detail::device_mutex);
  const auto it = llmlab::emu::detail::max_dynamic_shared.find(func);
  return it == llmlab::emu::detail::max_dynamic_shared.end() ? static_cast<int>(d.shared_per_block)
                                                             : it->second;
}
}  // namespace

extern "C" {

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (!prop) return cudaErrorInvalidValue;
  const EmulatedDevice* d = nullptr;
  if (const cudaError_t e = device_for(device, d); e != cudaSuccess) return e;
  std::memset(prop, 0, sizeof *prop);
  std::strncpy(prop->name, d->name.c_str(), sizeof prop->name - 1);
  prop->totalGlobalMem = d->global_memory;
  prop->sharedMemPerBlock = d->shared_per_block;
  prop->regsPerBlock = d->registers_per_block;
  prop->warpSize = d->warp_size;
  prop->memPitch = 2147483647;
  prop->maxThreadsPerBlock = d->max_threads_per_block;
  prop->maxThreadsDim[0] = prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 2147483647;
  prop->maxGridSize[1] = prop->maxGridSize[2] = 65535;
  prop->totalConstMem = 64 * 1024;
  prop->major = d->major;
  prop->minor = d->minor;
  prop->textureAlignment = 512;
  prop->multiProcessorCount = d->sm_count;
  prop->canMapHostMemory = 1;
  prop->concurrentKernels = 1;
  prop->unifiedAddressing = 1;
  prop->l2CacheSize = d->l2_cache_bytes;
  prop->memoryBusWidth = d->memory_bus_width;
  prop->maxThreadsPerMultiProcessor = d->max_threads_per_sm;
  prop->sharedMemPerMultiprocessor = d->shared_per_sm;
  prop->regsPerMultiprocessor = d->registers_per_sm;
  prop->managedMemory = 1;
  prop->cooperativeLaunch = 1;
  prop->sharedMemPerBlockOptin = d->shared_per_block_optin;
  prop->maxBlocksPerMultiProcessor = d->max_blocks_per_sm;
  prop->reservedSharedMemPerBlock = d->reserved_shared_per_block;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (!value) return cudaErrorInvalidValue;
  const EmulatedDevice* d = nullptr;
  if (const cudaError_t e = device_for(device, d); e != cudaSuccess) return e;
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = d->max_threads_per_block; break;
    case cudaDevAttrMaxBlockDimX: case cudaDevAttrMaxBlockDimY: *value = 1024; break;
    case cudaDevAttrMaxBlockDimZ: *value = 64; break;
    case cudaDevAttrMaxGridDimX: *value = 2147483647; break;
    case cudaDevAttrMaxGridDimY: case cudaDevAttrMaxGridDimZ: *value = 65535; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = static_cast<int>(d->shared_per_block); break;
    case cudaDevAttrTotalConstantMemory: *value = 64 * 1024; break;
    case cudaDevAttrWarpSize: *value = d->warp_size; break;
    case cudaDevAttrMaxRegistersPerBlock: *value = d->registers_per_block; break;
    case cudaDevAttrClockRate: *value = d->clock_khz; break;
    case cudaDevAttrMultiProcessorCount: *value = d->sm_count; break;
    case cudaDevAttrIntegrated: *value = 0; break;
    case cudaDevAttrCanMapHostMemory: case cudaDevAttrConcurrentKernels:
    case cudaDevAttrUnifiedAddressing: case cudaDevAttrManagedMemory:
    case cudaDevAttrCooperativeLaunch: *value = 1; break;
    case cudaDevAttrL2CacheSize: *value = d->l2_cache_bytes; break;
    case cudaDevAttrMemoryClockRate: *value = d->memory_clock_khz; break;
    case cudaDevAttrGlobalMemoryBusWidth: *value = d->memory_bus_width; break;
    case cudaDevAttrMaxThreadsPerMultiProcessor: *value = d->max_threads_per_sm; break;
    case cudaDevAttrComputeCapabilityMajor: *value = d->major; break;
    case cudaDevAttrComputeCapabilityMinor: *value = d->minor; break;
    case cudaDevAttrMaxSharedMemoryPerMultiprocessor: *value = static_cast<int>(d->shared_per_sm); break;
    case cudaDevAttrMaxRegistersPerMultiprocessor: *value = d->registers_per_sm; break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = static_cast<int>(d->shared_per_block_optin); break;
    case cudaDevAttrMaxBlocksPerMultiprocessor: *value = d->max_blocks_per_sm; break;
    case cudaDevAttrReservedSharedMemoryPerBlock: *value = static_cast<int>(d->reserved_shared_per_block); break;
    default: {
      llmlab::emu::detail::record_error(
          cudaErrorNotSupported, "llmlab emu: cudaDeviceGetAttribute: attribute " +
                                     std::to_string(static_cast<int>(attr)) + " is not emulated");
      return cudaErrorNotSupported;
    }
  }
  return cudaSuccess;
}

cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value) {
  if (!func) return cudaErrorInvalidDeviceFunction;
  const EmulatedDevice* d = nullptr;
  if (const cudaError_t e = device_for(0, d); e != cudaSuccess) return e;
  if (attr == cudaFuncAttributePreferredSharedMemoryCarveout) return cudaSuccess;  // no effect here
  if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize) {
    llmlab::emu::detail::record_error(cudaErrorNotSupported,
                                      "llmlab emu: cudaFuncSetAttribute: attribute " +
                                          std::to_string(static_cast<int>(attr)) + " is not emulated");
    return cudaErrorNotSupported;
  }
  if (value < 0 || static_cast<std::size_t>(value) > d->shared_per_block_optin) {
    llmlab::emu::detail::record_error(
        cudaErrorInvalidValue, "llmlab emu: cudaFuncSetAttribute(cudaFuncAttributeMaxDynamicSharedMemorySize, " +
                                   std::to_string(value) + "): more than the " +
                                   std::to_string(d->shared_per_block_optin) + " bytes " + d->name +
                                   " allows a block");
    return cudaErrorInvalidValue;
  }
  std::lock_guard lock(llmlab::emu::detail::device_mutex);
  llmlab::emu::detail::max_dynamic_shared[func] = value;
  return cudaSuccess;
}

cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attr, const void* func) {
  if (!attr) return cudaErrorInvalidValue;
  if (!func) return cudaErrorInvalidDeviceFunction;
  const EmulatedDevice* d = nullptr;
  if (const cudaError_t e = device_for(0, d); e != cudaSuccess) return e;
  std::memset(attr, 0, sizeof *attr);
  attr->maxThreadsPerBlock = d->max_threads_per_block;
  attr->ptxVersion = attr->binaryVersion = d->major * 10 + d->minor;
  attr->maxDynamicSharedSizeBytes = dynamic_limit(func, *d);
  attr->preferredShmemCarveout = -1;
  return cudaSuccess;
}

cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int* numBlocks, const void* func,
                                                          int blockSize, size_t dynamicSMemSize) {
  if (!numBlocks || blockSize <= 0) return cudaErrorInvalidValue;
  if (!func) return cudaErrorInvalidDeviceFunction;
  const EmulatedDevice* d = nullptr;
  if (const cudaError_t e = device_for(0, d); e != cudaSuccess) return e;
  if (blockSize > d->max_threads_per_block ||
      dynamicSMemSize > static_cast<std::size_t>(dynamic_limit(func, *d))) {
    *numBlocks = 0;
    return cudaSuccess;
  }
  const int warps = (blockSize + d->warp_size - 1) / d->warp_size;
  int blocks = std::min(d->max_blocks_per_sm, d->max_threads_per_sm / (warps * d->warp_size));
  // Static __shared__ and registers are unknown to the emulator: only the dynamic bytes (plus the
  // driver's reserved kilobyte per block) count against the SM's shared memory.
  const std::size_t per_block = dynamicSMemSize + d->reserved_shared_per_block;
  if (per_block > 0) blocks = std::min<int>(blocks, static_cast<int>(d->shared_per_sm / per_block));
  *numBlocks = blocks;
  return cudaSuccess;
}

}  // extern "C"
