/// \file
/// \ingroup group_emulator
/// \brief `llmlab-cudapp IN.cu -o OUT.cpp [--name SHOWN] [--headers DIR] [--depfile OUT.d]`:
/// ordinary CUDA source → C++ for the emulator.
///
/// SHOWN (default IN) is the file name `#line` gives g++, so its errors and the emulator's
/// diagnostics name the user's own file. Local headers with launches or `extern __shared__` are
/// rewritten into DIR (default OUT.cpp's name + ".headers"); the depfile lists IN's local headers. Exit status 1 with "file:line: error: …" on a source it
/// cannot read, 2 on bad usage.

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "cudapp.hpp"

/// Reads IN, writes OUT (only when its content changes), and the depfile if asked.
int main(int argc, char** argv) {
  std::string in, out, shown, headers, depfile;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "-o" || a == "--name" || a == "--headers" || a == "--depfile") && i + 1 < argc) {
      (a == "-o" ? out : a == "--name" ? shown : a == "--headers" ? headers : depfile) = argv[++i];
    } else if (!a.empty() && a[0] != '-' && in.empty()) {
      in = a;
    } else {
      std::cerr << "llmlab-cudapp: unexpected argument '" << a << "'\n"
                << "usage: llmlab-cudapp IN.cu -o OUT.cpp [--name SHOWN] [--headers DIR] [--depfile OUT.d]\n";
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
    std::vector<std::string> dependencies;
    llmlab::cudapp::Options options;
    options.header_dir = headers.empty() ? out + ".headers" : headers;
    options.dependencies = &dependencies;
    // Local headers are found next to IN; then IN's own #line directives name SHOWN instead.
    std::string result = llmlab::cudapp::preprocess(text.str(), in, options);
    if (!shown.empty() && shown != in) {
      for (std::size_t at = 0; (at = result.find("#line ", at)) != std::string::npos; ++at) {
        const auto q = result.find('"', at), e = result.find('\n', at);
        if (q < e && result.compare(q + 1, in.size() + 1, in + "\"") == 0) result.replace(q + 1, in.size(), shown);
      }
    }
    if (!depfile.empty()) {
      std::ofstream d(depfile);
      d << out << ":";
      for (const auto& dep : dependencies) d << " \\\n  " << dep;
      d << '\n';
    }
    std::ifstream previous(out, std::ios::binary);
    std::ostringstream previous_text;
    previous_text << previous.rdbuf();
    if (previous && previous_text.str() == result) return 0;  // unchanged: keep its time stamp
    previous.close();
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
