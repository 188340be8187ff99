// Every diagnostic names the kernel (demangled, with template arguments, also in an anonymous
// namespace or with `static` linkage), the source line of the barrier or access where it is known,
// where the kernel is defined, and the launch's grid and block; none shows a bare address.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include <llmlab/cuda/kernel.cuh>

#include "llmlab/testing/device.hpp"

using llmlab::cuda::launch;
using llmlab::cuda::launch_config;
using llmlab::testing::DeviceBuffer;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

// Lines come from this file, not from the emulator.
constexpr int kAnonBarrier = __LINE__ + 4;
constexpr int kAnonKernel = __LINE__ + 1;
__global__ void divergent_in_anonymous_namespace(float* x) {
  if (threadIdx.x < 16) {
    __syncthreads();
    x[threadIdx.x] = 1.0f;
  }
  __syncthreads();
}

/// The same bug in a template kernel, launched as k<float, 4>.
constexpr int kTemplateBarrier = __LINE__ + 5;
constexpr int kTemplateKernel = __LINE__ + 2;
template <class T, int N>
__global__ void k(T* x) {
  if (threadIdx.x % 2 == 0) {
    __syncthreads();
    x[threadIdx.x] = T(N);
  } else {
    __syncthreads();
  }
}

/// The fixed twin: every thread reaches the one barrier (and each block writes its own row, so
/// the blocks do not race).
template <class T, int N>
__global__ void k_fixed(T* x) {
  __syncthreads();
  const unsigned row = blockIdx.y * gridDim.x + blockIdx.x;
  if (threadIdx.x % 2 == 0) x[row * blockDim.x + threadIdx.x] = T(N);
}

__global__ void throws_in_anonymous_namespace(float*) {
  if (threadIdx.x == 3) throw std::out_of_range("index 99 out of range");
}

// A null pointer dereferenced by kernel code: the process dies (as a GPU context would) after the
// emulator names the kernel, launch, block, thread and the faulting line.
constexpr int kNullWrite = __LINE__ + 1;  // the optimiser's line table may say the next line
__global__ void null_write(float* x) {
  if (blockIdx.x == 1 && threadIdx.x == 5) x[threadIdx.x] = 1.0f;
}

}  // namespace

/// Internal linkage through `static` rather than a namespace.
static __global__ void static_kernel(float*) {}

namespace {

std::string diagnostic_of(cudaError_t e) {
  cudaGetLastError();
  return e == cudaSuccess ? "" : llmlab::emu::last_diagnostic();
}

const std::string kFile = "emu_names_test.cpp:";

TEST(EmuNames, AKernelInAnAnonymousNamespaceIsNamedWithItsLinesAndLaunch) {
  DeviceBuffer<float> x(64);
  const cudaError_t e =
      launch(launch_config(dim3(2), dim3(64)), divergent_in_anonymous_namespace, x.get());
  EXPECT_EQ(e, cudaErrorLaunchFailure);
  const std::string d = diagnostic_of(e);
  EXPECT_THAT(d, HasSubstr("kernel `(anonymous namespace)::divergent_in_anonymous_namespace`"));
  EXPECT_THAT(d, HasSubstr(kFile + std::to_string(kAnonBarrier)));  // the barrier
  EXPECT_THAT(d, HasSubstr(kFile + std::to_string(kAnonKernel)));   // the kernel's definition
  EXPECT_THAT(d, HasSubstr("with grid (2,1,1) and block (64,1,1)"));
  EXPECT_THAT(d, Not(HasSubstr("@0x")));
}

TEST(EmuNames, ATemplateKernelIsNamedWithItsTemplateArguments) {
  DeviceBuffer<float> x(32);
  const cudaError_t e = launch(launch_config(dim3(3, 2), dim3(32)), k<float, 4>, x.get());
  EXPECT_EQ(e, cudaErrorLaunchFailure);
  const std::string d = diagnostic_of(e);
  EXPECT_THAT(d, HasSubstr("kernel `(anonymous namespace)::k<float, 4>`"));
  EXPECT_THAT(d, HasSubstr(kFile + std::to_string(kTemplateBarrier)));
  EXPECT_THAT(d, HasSubstr(kFile + std::to_string(kTemplateKernel)));
  EXPECT_THAT(d, HasSubstr("with grid (3,2,1) and block (32,1,1)"));
  EXPECT_THAT(d, Not(HasSubstr("@0x")));
  // What a caller that prints only cudaGetErrorString shows names the kernel too.
  EXPECT_THAT(std::string(cudaGetErrorString(e)), HasSubstr("k<float, 4>"));
}

TEST(EmuNames, TheFixedTemplateTwinPasses) {
  DeviceBuffer<float> x(6 * 32);
  EXPECT_EQ(launch(launch_config(dim3(3, 2), dim3(32)), k_fixed<float, 4>, x.get()), cudaSuccess)
      << llmlab::emu::last_diagnostic();
}

TEST(EmuNames, AnExceptionNamesKernelThreadAndLaunch) {
  DeviceBuffer<float> x(8);
  const cudaError_t e =
      launch(launch_config(dim3(1), dim3(8)), throws_in_anonymous_namespace, x.get());
  EXPECT_EQ(e, cudaErrorLaunchFailure);
  const std::string d = diagnostic_of(e);
  EXPECT_THAT(d, HasSubstr("(anonymous namespace)::throws_in_anonymous_namespace"));
  EXPECT_THAT(d, HasSubstr("thread (3,0,0)"));
  EXPECT_THAT(d, HasSubstr("index 99 out of range"));
  EXPECT_THAT(d, HasSubstr("with grid (1,1,1) and block (8,1,1)"));
  EXPECT_THAT(d, Not(HasSubstr("@0x")));
}

TEST(EmuNames, AnImpossibleLaunchOfAStaticKernelIsNamed) {
  DeviceBuffer<float> x(8);
  const cudaError_t e = launch(launch_config(dim3(1), dim3(2048)), static_kernel, x.get());
  EXPECT_EQ(e, cudaErrorInvalidConfiguration);
  const std::string d = diagnostic_of(e);
  EXPECT_THAT(d, HasSubstr("launch of kernel `static_kernel`"));
  EXPECT_THAT(d, HasSubstr("with grid (1,1,1) and block (2048,1,1)"));
  EXPECT_THAT(d, HasSubstr("exceeds the limits"));
  EXPECT_THAT(d, Not(HasSubstr("@0x")));
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif

TEST(EmuNamesDeathTest, AFaultInKernelCodeNamesKernelThreadAndLine) {
  if (kAsan) GTEST_SKIP() << "AddressSanitizer reports the fault itself (emu_diagnostics_test)";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const std::string want = "SIGSEGV [(]an invalid address[)] in kernel `[(]anonymous namespace[)]::"
                           "null_write` block [(]1,0,0[)] thread [(]5,0,0[)] accessing 0x14, at "
                           "[^\n]*emu_names_test.cpp:(" + std::to_string(kNullWrite) + "|" +
                           std::to_string(kNullWrite + 1) + ")" +
                           "\n  in the launch of kernel [^\n]* with grid [(]2,1,1[)] and block "
                           "[(]32,1,1[)]";
  EXPECT_DEATH(
      {
        const cudaError_t e = launch(launch_config(dim3(2), dim3(32)), null_write,
                                     static_cast<float*>(nullptr));
        (void)e;
      },
      want);
}

}  // namespace
