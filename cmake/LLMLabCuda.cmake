# llmlab_add_cuda_library(NAME [SHARED] [EMU_ONLY] SOURCES a.cu b.cu ... [LINK targets...]
#                         [CUDA_LINK names...] [INCLUDE dirs...])
#
# Every .cu file is built twice, as docs/design.md §1 says:
#   NAME_emu  — g++ compiles the file as C++ against the CUDA emulator (llmlab::emu); runs anywhere.
#   NAME_gpu  — nvcc compiles it for CMAKE_CUDA_ARCHITECTURES (default 80;90); only when the CUDA
#               language is enabled and EMU_ONLY is not given. It links the shared CUDA runtime.
# LINK targets go to both flavours; each CUDA_LINK name X (another llmlab_add_cuda_library) links
# X_emu into NAME_emu and X_gpu into NAME_gpu.
# Never link NAME_emu and NAME_gpu into one binary: they define the same functions.
# The emu flavour compiles a generated .cpp: llmlab-cudapp's rewrite of the .cu (ordinary CUDA:
# `kernel<<<g, b, smem, stream>>>(args)` and `extern __shared__ T x[];` become emulated launches
# and dynamic shared memory; `#line` keeps errors and diagnostics on the .cu's own lines). It is
# regenerated when the .cu or a header it includes as "x" changes (such a header holding launches is
# rewritten too); the .cu's directory is searched for its "relative" #includes.
# (A generated file, also because a source file can carry only one LANGUAGE per directory.)
# CMake 3.25 predates nvcc's C++20 flag; nvcc 12+ accepts -std=c++20, so name it ourselves (a .cu
# file includes C++20 headers of ours).
if(CMAKE_CUDA_COMPILER AND NOT DEFINED CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
  set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
  set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
endif()

# llmlab_emu_instrument(TARGET): compiles TARGET's sources with the emulator's memory checks (race
# detector, uninitialised reads: docs/emulator.md). GCC's -fsanitize=thread instrumentation at
# compile time only — never at link time, so libtsan is not linked: libllmlab_emu defines the
# __tsan_* functions it calls. Off under the asan preset (AddressSanitizer and ThreadSanitizer
# instrumentation cannot be combined) and with compilers other than GCC.
function(llmlab_emu_instrument TARGET)
  # (A project of a student's own that passes -fsanitize=address in its flags counts too.)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND NOT LLMLAB_SANITIZE
     AND NOT CMAKE_CXX_FLAGS MATCHES "-fsanitize=(address|thread)")
    target_compile_options(${TARGET} PRIVATE
      $<$<COMPILE_LANGUAGE:CXX>:-fsanitize=thread --param=tsan-instrument-func-entry-exit=0 -Wno-tsan
                                      -fno-plt>)
  endif()
endfunction()

# llmlab_emu_sources(OUT DIRNAME sources...): OUT = the generated .cpp of each source for the
# emulator (llmlab-cudapp's output for a .cu, the file itself otherwise), under DIRNAME_sources/.
function(llmlab_emu_sources OUT DIRNAME)
  set(cudapp llmlab::cudapp)
  if(TARGET llmlab_cudapp)  # in llmlab's own tree: the target, so edits to the tool rebuild too
    set(cudapp llmlab_cudapp)
  endif()
  set(result "")
  foreach(src IN LISTS ARGN)
    get_filename_component(abs "${src}" ABSOLUTE)
    get_filename_component(dir "${abs}" DIRECTORY)
    get_filename_component(stem "${src}" NAME_WE)
    get_filename_component(ext "${src}" LAST_EXT)
    if(NOT ext STREQUAL ".cu")
      list(APPEND result "${abs}")
      continue()
    endif()
    set(out "${CMAKE_CURRENT_BINARY_DIR}/${DIRNAME}_sources/${stem}.cpp")
    add_custom_command(OUTPUT "${out}"
      COMMAND ${cudapp} "${abs}" -o "${out}" --depfile "${out}.d"
      DEPENDS "${abs}" ${cudapp}
      DEPFILE "${out}.d"
      COMMENT "llmlab-cudapp ${src}"
      VERBATIM)
    set_source_files_properties("${out}" PROPERTIES COMPILE_OPTIONS "-iquote;${dir}")
    list(APPEND result "${out}")
  endforeach()
  set(${OUT} "${result}" PARENT_SCOPE)
endfunction()

function(llmlab_add_cuda_library NAME)
  cmake_parse_arguments(ARG "SHARED;EMU_ONLY" "" "SOURCES;LINK;CUDA_LINK;INCLUDE" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "llmlab_add_cuda_library(${NAME}): no SOURCES given")
  endif()
  set(kind STATIC)
  if(ARG_SHARED)
    set(kind SHARED)
  endif()

  llmlab_emu_sources(wrappers ${NAME}_emu ${ARG_SOURCES})
  add_library(${NAME}_emu ${kind} ${wrappers})
  llmlab_emu_instrument(${NAME}_emu)
  target_link_libraries(${NAME}_emu PUBLIC llmlab::emu ${ARG_LINK})
  foreach(dep IN LISTS ARG_CUDA_LINK)
    target_link_libraries(${NAME}_emu PUBLIC ${dep}_emu)
  endforeach()
  target_include_directories(${NAME}_emu PUBLIC ${ARG_INCLUDE})
  if(TARGET llmlab_warnings)
    target_link_libraries(${NAME}_emu PRIVATE $<BUILD_INTERFACE:llmlab_warnings>)
  endif()
  set_target_properties(${NAME}_emu PROPERTIES POSITION_INDEPENDENT_CODE ON)
  if(ARG_SHARED)
    # A kernel library is a plugin `llmlab verify --impl` loads alone, so it must bring its runtime
    # (libllmlab_emu) even while every kernel in it still throws "not implemented" and so calls
    # nothing of the emulator yet — which --as-needed would take as a reason to drop it.
    target_link_options(${NAME}_emu PRIVATE "LINKER:--no-as-needed")
  endif()

  if(CMAKE_CUDA_COMPILER AND NOT ARG_EMU_ONLY)
    add_library(${NAME}_gpu ${kind} ${ARG_SOURCES})
    target_link_libraries(${NAME}_gpu PUBLIC llmlab::cuda_headers CUDA::cudart ${ARG_LINK})
    # The .cu files include C++20 headers of ours: nvcc gets -std=c++20 (named above) for them,
    # whatever the calling project's CMAKE_CUDA_STANDARD. (A property, not the cuda_std_20 compile
    # feature: CMake 3.25 knows no features of nvcc 13.)
    set_target_properties(${NAME}_gpu PROPERTIES CUDA_STANDARD 20 CUDA_STANDARD_REQUIRED ON)
    target_include_directories(${NAME}_gpu PUBLIC ${ARG_INCLUDE})
    foreach(dep IN LISTS ARG_CUDA_LINK)
      target_link_libraries(${NAME}_gpu PUBLIC ${dep}_gpu)
    endforeach()
    set_target_properties(${NAME}_gpu PROPERTIES
      CUDA_RUNTIME_LIBRARY Shared
      POSITION_INDEPENDENT_CODE ON
      CUDA_ARCHITECTURES "${CMAKE_CUDA_ARCHITECTURES}")
    target_compile_options(${NAME}_gpu PRIVATE
      $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr -Werror=all-warnings>)
  endif()
endfunction()

# llmlab_add_nvcc_executable(NAME SOURCE file.cpp [LINK targets...] [DEFINITIONS defs...])
# The "also build this .cpp with nvcc" recipe, in one place: a test, benchmark or check written
# against <llmlab/cuda/kernel.cuh> compiles unchanged as CUDA for the GPU kernels. The .cpp reaches
# nvcc through a generated one-line .cu (one source file carries one LANGUAGE per directory); its
# own directory is on the include path so its relative #includes still work. Only with nvcc.
function(llmlab_add_nvcc_executable NAME)
  cmake_parse_arguments(ARG "" "SOURCE" "LINK;DEFINITIONS" ${ARGN})
  get_filename_component(abs "${ARG_SOURCE}" ABSOLUTE)
  get_filename_component(dir "${abs}" DIRECTORY)
  file(RELATIVE_PATH shown "${PROJECT_SOURCE_DIR}" "${abs}")
  set(wrapper "${CMAKE_CURRENT_BINARY_DIR}/gpu_sources/${NAME}.cu")
  file(CONFIGURE OUTPUT "${wrapper}"
       CONTENT "// Generated: ${shown} compiled by nvcc for the GPU kernels.\n#include \"${abs}\"\n")
  add_executable(${NAME} "${wrapper}")
  target_include_directories(${NAME} PRIVATE "${dir}")
  target_link_libraries(${NAME} PRIVATE ${ARG_LINK})
  target_compile_definitions(${NAME} PRIVATE ${ARG_DEFINITIONS})
  target_compile_options(${NAME} PRIVATE
    $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr -Werror=all-warnings>)
  set_target_properties(${NAME} PROPERTIES CUDA_RUNTIME_LIBRARY Shared)
endfunction()

# llmlab_add_cuda_executable(NAME SOURCES a.cu [b.cpp ...] [LINK targets...] [EMU_ONLY])
# An ordinary CUDA program (its own main) built like llmlab_add_cuda_library's flavours:
#   NAME_emu — llmlab-cudapp + g++ against the emulator; runs anywhere.
#   NAME_gpu — nvcc for CMAKE_CUDA_ARCHITECTURES, when the CUDA language is enabled.
function(llmlab_add_cuda_executable NAME)
  cmake_parse_arguments(ARG "EMU_ONLY" "" "SOURCES;LINK" ${ARGN})
  llmlab_emu_sources(emu_sources ${NAME}_emu ${ARG_SOURCES})
  add_executable(${NAME}_emu ${emu_sources})
  llmlab_emu_instrument(${NAME}_emu)
  target_link_libraries(${NAME}_emu PRIVATE llmlab::emu ${ARG_LINK})
  if(CMAKE_CUDA_COMPILER AND NOT ARG_EMU_ONLY)
    add_executable(${NAME}_gpu ${ARG_SOURCES})
    target_link_libraries(${NAME}_gpu PRIVATE CUDA::cudart ${ARG_LINK})
    set_target_properties(${NAME}_gpu PROPERTIES
      CUDA_RUNTIME_LIBRARY Shared CUDA_STANDARD 20 CUDA_STANDARD_REQUIRED ON
      CUDA_ARCHITECTURES "${CMAKE_CUDA_ARCHITECTURES}")
    target_compile_options(${NAME}_gpu PRIVATE
      $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr -Werror=all-warnings>)
  endif()
endfunction()
