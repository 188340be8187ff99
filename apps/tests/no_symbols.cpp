// A shared library that exports none of the C entry points of optimized/include/llmlab/cuda/abi/:
// `llmlab verify --impl` must refuse it and name the first symbol it expected.
