/// \file
/// \ingroup group_emulator
/// \brief `llmlab-cudapp IN.cu -o OUT.cpp [--name SHOWN]`: ordinary CUDA source → C++ for the emulator.
///
/// SHOWN (default IN) is the file name `#line` gives g++, so its errors and the emulator's
/// diagnostics name the user's own file. Exit status 1 with "file:line: error: …" on a source it
/// cannot read, 2 on bad usage.

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "cudapp.hpp"

int main(int argc, char** argv) {
  std::string in, out, shown;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "-o" || a == "--name") && i + 1 < argc) {
      (a == "-o" ? out : shown) = argv[++i];
    } else if (!a.empty() && a[0] != '-' && in.empty()) {
      in = a;
    } else {
      std::cerr << "llmlab-cudapp: unexpected argument '" << a << "'\n"
                << "usage: llmlab-cudapp IN.cu -o OUT.cpp [--name SHOWN]\n";
      return 2;
    }
  }
  if (in.empty() || out.empty()) {
    std::cerr << "usage: llmlab-cudapp IN.cu -o OUT.cpp [--name SHOWN]\n";
    return 2;
  }
  std::ifstream file(in, std::ios::binary);
  if (!file) {
    std::cerr << "llmlab-cudapp: cannot read " << in << '\n';
    return 1;
  }
  std::ostringstream text;
  text << file.rdbuf();
  try {
    const std::string result = llmlab::cudapp::preprocess(text.str(), shown.empty() ? in : shown);
    std::ofstream dest(out, std::ios::binary);
    dest << result;
    if (!dest) {
      std::cerr << "llmlab-cudapp: cannot write " << out << '\n';
      return 1;
    }
  } catch (const llmlab::cudapp::SyntaxError& e) {
    std::cerr << e.what() << '\n';
    return 1;
  }
  return 0;
}
