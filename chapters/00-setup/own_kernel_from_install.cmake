# cmake -DLLMLAB_BUILD_DIR=... -DOWN_KERNEL_DIR=... -DWORK_DIR=... -DLLMLAB_EXE=... [-DGENERATOR=...]
#       [-DNVCC_SAMPLE=file.cu]
#       [-DC_COMPILER=... -DCXX_COMPILER=...] [-DLAUNCHER=ccache] [-DBUILD_TYPE=...] [-DSANITIZE=ON]
#       -P own_kernel_from_install.cmake
#
# What a student does with their own repository (chapters/00-setup/own-kernel), end to end:
#   1. install llmlab from LLMLAB_BUILD_DIR into a fresh prefix;
#   2. configure own-kernel against it with find_package(llmlab) — emulated kernels only, as on a
#      machine without nvcc;
#   3. build it, run its GoogleTest, and its ctest (which also runs the installed `llmlab verify`);
#   4. run the installed `llmlab verify all` (it must find its plugin in <prefix>/lib), and the build
#      tree's `llmlab verify reduce_sum|vector_add --impl libmy_kernels_emu.so`;
#   5. build NVCC_SAMPLE (an ordinary CUDA program) with the installed llmlab-nvcc and run it.
# Any failing step fails the test with that step's output.

foreach(var LLMLAB_BUILD_DIR OWN_KERNEL_DIR WORK_DIR LLMLAB_EXE)
  if(NOT ${var})
    message(FATAL_ERROR "own_kernel_from_install.cmake: -D${var}=... is required")
  endif()
endforeach()

# step(<what> COMMAND ...): runs the command, echoes its output, stops on a non-zero exit.
function(step what)
  message(STATUS "---- ${what}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message(STATUS "${out}${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (exit ${rc}): ${ARGN}")
  endif()
endfunction()

set(prefix "${WORK_DIR}/prefix")
set(build "${WORK_DIR}/build")
file(REMOVE_RECURSE "${WORK_DIR}")

step("install llmlab into ${prefix}" ${CMAKE_COMMAND} --install "${LLMLAB_BUILD_DIR}" --prefix "${prefix}")

set(configure ${CMAKE_COMMAND} -S "${OWN_KERNEL_DIR}" -B "${build}"
    "-DCMAKE_PREFIX_PATH=${prefix}" -DLLMLAB_CUDA=OFF)
if(GENERATOR)
  list(APPEND configure -G "${GENERATOR}")
endif()
foreach(pair "C_COMPILER;CMAKE_C_COMPILER" "CXX_COMPILER;CMAKE_CXX_COMPILER"
             "LAUNCHER;CMAKE_CXX_COMPILER_LAUNCHER" "BUILD_TYPE;CMAKE_BUILD_TYPE")
  list(GET pair 0 from)
  list(GET pair 1 to)
  if(${from})
    list(APPEND configure "-D${to}=${${from}}")
  endif()
endforeach()
if(SANITIZE)
  # llmlab's installed libraries carry AddressSanitizer calls; the student's code must link it too.
  set(san "-fsanitize=address,undefined -fno-omit-frame-pointer")
  list(APPEND configure "-DCMAKE_CXX_FLAGS=${san}" "-DCMAKE_C_FLAGS=${san}"
       "-DCMAKE_EXE_LINKER_FLAGS=${san}" "-DCMAKE_SHARED_LINKER_FLAGS=${san}")
endif()
step("configure own-kernel with find_package(llmlab)" ${configure})
step("build own-kernel" ${CMAKE_COMMAND} --build "${build}" -j2)
step("run its test" "${build}/my_kernels_test")
step("run its ctest" ${CMAKE_COMMAND} -E chdir "${build}" ${CMAKE_CTEST_COMMAND} --output-on-failure)

step("the installed llmlab verify all (our plugin from <prefix>/lib)" "${prefix}/bin/llmlab" verify all)

set(lib "${build}/libmy_kernels_emu.so")
step("llmlab verify reduce_sum --impl ${lib}" "${LLMLAB_EXE}" verify reduce_sum --impl "${lib}")
step("llmlab verify vector_add --impl ${lib}" "${LLMLAB_EXE}" verify vector_add --impl "${lib}")
if(NVCC_SAMPLE)
  # Under the asan preset the installed llmlab-nvcc itself compiles and links with the sanitizers
  # its libllmlab_emu was built with.
  set(nvcc_flags -arch=sm_90)
  step("the installed llmlab-nvcc ${NVCC_SAMPLE}" "${prefix}/bin/llmlab-nvcc" ${nvcc_flags}
       "${NVCC_SAMPLE}" -o "${WORK_DIR}/nvcc_sample")
  step("run the llmlab-nvcc program" "${WORK_DIR}/nvcc_sample")
endif()
message(STATUS "own-kernel builds from an install and passes its checks and llmlab verify")
