// An ordinary CUDA program using cooperative groups: tiles of 32, 8 and 4 threads, cg::reduce with
// plus/greater/less, inclusive and exclusive scans, shuffles and votes. Exits 0 iff all match the CPU.
#include <cooperative_groups.h>
#include <cooperative_groups/reduce.h>
#include <cooperative_groups/scan.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <vector>

namespace cg = cooperative_groups;

constexpr int kThreads = 128;

// Per thread: 0 warp sum, 1 warp max, 2 tile-of-8 min, 3 tile-of-8 inclusive sum, 4 tile-of-4
// exclusive sum, 5 warp shfl_down(1), 6 ballot of odd values in the warp (tile-relative for 8),
// 7 meta_group_rank of the 8-tile, 8 any/all in the 4-tile packed, 9 block thread_rank after sync.
__global__ void groups(const int* in, int* out) {
  cg::thread_block block = cg::this_thread_block();
  cg::thread_block_tile<32> warp = cg::tiled_partition<32>(block);
  auto tile8 = cg::tiled_partition<8>(block);
  auto tile4 = cg::tiled_partition<4>(warp);
  const unsigned t = block.thread_rank();
  const int v = in[blockIdx.x * kThreads + t];
  int* o = out + (blockIdx.x * kThreads + t) * 10;
  o[0] = cg::reduce(warp, v, cg::plus<int>());
  o[1] = cg::reduce(warp, v, cg::greater<int>());
  o[2] = cg::reduce(tile8, v, cg::less<int>());
  o[3] = cg::inclusive_scan(tile8, v);
  o[4] = cg::exclusive_scan(tile4, v, cg::plus<int>());
  o[5] = warp.shfl_down(v, 1);
  o[6] = static_cast<int>(tile8.ballot(v % 2 != 0));
  o[7] = static_cast<int>(tile8.meta_group_rank() * 100 + tile8.meta_group_size());
  o[8] = tile4.any(v > 8) * 10 + tile4.all(v > 0);
  block.sync();
  o[9] = static_cast<int>(t + block.size() * 1000 + block.group_index().x * 1000000);
}

int main() {
  const int blocks = 2, n = blocks * kThreads;
  std::vector<int> in(n), out(n * 10);
  for (int i = 0; i < n; ++i) in[i] = (i * 7) % 10;
  int *din = nullptr, *dout = nullptr;
  cudaMalloc(&din, n * sizeof(int));
  cudaMalloc(&dout, n * 10 * sizeof(int));
  cudaMemcpy(din, in.data(), n * sizeof(int), cudaMemcpyHostToDevice);
  groups<<<blocks, kThreads>>>(din, dout);
  if (const cudaError_t e = cudaDeviceSynchronize(); e != cudaSuccess) {
    std::printf("launch failed: %s\n", cudaGetErrorString(e));
    return 1;
  }
  cudaMemcpy(out.data(), dout, n * 10 * sizeof(int), cudaMemcpyDeviceToHost);
  int failures = 0;
  for (int i = 0; i < n; ++i) {
    const int t = i % kThreads, w0 = i - i % 32, e0 = i - i % 8, f0 = i - i % 4;
    int expect[10] = {0, 0, 1 << 30, 0, 0, 0, 0, 0, 0, 0};
    for (int j = w0; j < w0 + 32; ++j) expect[0] += in[j], expect[1] = std::max(expect[1], in[j]);
    for (int j = e0; j < e0 + 8; ++j) {
      expect[2] = std::min(expect[2], in[j]);
      if (j <= i) expect[3] += in[j];
      if (in[j] % 2 != 0) expect[6] |= 1 << (j - e0);
    }
    for (int j = f0; j < i; ++j) expect[4] += in[j];
    expect[5] = (i % 32 == 31) ? in[i] : in[i + 1];
    expect[7] = (t / 8) * 100 + kThreads / 8;
    bool any = false, all = true;
    for (int j = f0; j < f0 + 4; ++j) any = any || in[j] > 8, all = all && in[j] > 0;
    expect[8] = any * 10 + all;
    expect[9] = t + kThreads * 1000 + (i / kThreads) * 1000000;
    for (int k = 0; k < 10; ++k) {
      if (out[i * 10 + k] != expect[k]) {
        if (failures < 10) std::printf("thread %d, value %d: %d (expected %d)\n", i, k, out[i * 10 + k], expect[k]);
        ++failures;
      }
    }
  }
  cudaFree(din);
  cudaFree(dout);
  std::printf("%s\n", failures == 0 ? "cg_tiles: all checks passed" : "cg_tiles: FAILED");
  return failures == 0 ? 0 : 1;
}
