# cmake -DNVCC=llmlab-nvcc -DSOURCE=file.cu -DWORK=dir -P build_and_run.cmake
# Builds SOURCE with llmlab-nvcc (nvcc's GPU flags given, as a user would) and runs the program; one
# binary per schedule, since ctest runs the schedules' tests in parallel.
get_filename_component(stem "${SOURCE}" NAME_WE)
string(REGEX REPLACE "[^A-Za-z0-9]" "_" schedule "$ENV{LLMLAB_EMU_SCHEDULE}")
set(program "${WORK}/${stem}.${schedule}")
file(MAKE_DIRECTORY "${WORK}")
execute_process(COMMAND "${NVCC}" -arch=sm_90 -gencode arch=compute_80,code=sm_80 -O2 -lineinfo
                        --expt-relaxed-constexpr -Xcompiler -Wall "${SOURCE}" -o "${program}" -lcublas
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "llmlab-nvcc ${SOURCE} failed (${rc})")
endif()
execute_process(COMMAND "${program}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${program} failed (${rc})")
endif()
