#pragma once
/// \file
/// \brief Reading NumPy `.npy` files (golden data), with errors that name the file.

#include <xtensor/xarray.hpp>
#include <xtensor/xnpy.hpp>

#include <filesystem>
#include <string>

#include "llmlab/core/error.hpp"

namespace llmlab {

/// Loads a C-ordered little-endian `.npy` file whose dtype matches T (float64 → double, ...).
/// @param path the file  @returns the array with the file's shape
/// @throws Error naming the file if it is missing, unreadable, or of another dtype.
template <class T>
xt::xarray<T> load_npy(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) throw Error("load_npy", "no such file: " + path.string());
  try {
    return xt::load_npy<T>(path.string());
  } catch (const std::exception& e) {
    throw Error("load_npy", path.string() + ": " + e.what());
  }
}

}  // namespace llmlab
