#include "names.hpp"

#include <dlfcn.h>

#include <boost/core/demangle.hpp>
#include <boost/stacktrace/frame.hpp>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <unordered_map>

namespace llmlab::emu::detail {

std::string strip_signature(std::string s) {
  // The parameter list: the parenthesised group that ends the name.
  if (!s.empty() && s.back() == ')') {
    int depth = 0;
    for (std::size_t i = s.size(); i-- > 0;) {
      if (s[i] == ')') ++depth;
      if (s[i] == '(' && --depth == 0) {
        s.resize(i);
        break;
      }
    }
  }
  // A template's mangled name carries its return type: drop what precedes the last space outside
  // <…> and (…) ("(anonymous namespace)" and "k<float, 4>" keep theirs).
  int angle = 0, paren = 0;
  std::size_t cut = std::string::npos;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '<') ++angle;
    if (c == '>' && angle > 0) --angle;
    if (c == '(') ++paren;
    if (c == ')' && paren > 0) --paren;
    if (c == ' ' && angle == 0 && paren == 0) cut = i;
  }
  return cut == std::string::npos ? s : s.substr(cut + 1);
}

namespace {

// "file:line" of `pc` from the DWARF line tables, or "".
std::string line_of(const void* pc) {
  const boost::stacktrace::frame f(pc);
  const std::string file = f.source_file();
  return file.empty() || f.source_line() == 0 ? "" : file + ':' + std::to_string(f.source_line());
}

KernelInfo look_up(const void* address) {
  KernelInfo k{address, {}};
  Dl_info info{};
  const bool in_library = address && ::dladdr(address, &info) && info.dli_fname;
  if (in_library && info.dli_sname && info.dli_saddr == address)
    k.name = strip_signature(boost::core::demangle(info.dli_sname));
  if (k.name.empty() && address) k.name = strip_signature(boost::stacktrace::frame(address).name());
  if (k.name.empty())
    k.name = std::string("an unnamed kernel in ") +
             (in_library ? std::filesystem::path(info.dli_fname).filename().string()
                         : std::string("no loaded library"));
  return k;
}

}  // namespace

const KernelInfo& kernel_info(const void* address) {
  static std::mutex mutex;
  static std::unordered_map<const void*, KernelInfo> cache;  // nodes are stable: references stay
  std::lock_guard lock(mutex);
  auto it = cache.find(address);
  if (it == cache.end()) it = cache.emplace(address, look_up(address)).first;
  return it->second;
}

std::string kernel_site(const void* address) {
  static std::mutex mutex;
  static std::unordered_map<const void*, std::string> cache;
  std::lock_guard lock(mutex);
  auto it = cache.find(address);
  if (it == cache.end()) it = cache.emplace(address, address ? line_of(address) : "").first;
  return it->second;
}

std::string source_line_of(const void* pc) { return pc ? line_of(pc) : ""; }

std::string describe_launch(const KernelInfo& kernel, const LaunchSpec& spec) {
  std::ostringstream s;
  s << "kernel `" << kernel.name << '`';
  if (const std::string site = kernel_site(kernel.address); !site.empty()) s << " (" << site << ')';
  s << " with grid (" << spec.grid.x << ',' << spec.grid.y << ',' << spec.grid.z << ") and block ("
    << spec.block.x << ',' << spec.block.y << ',' << spec.block.z << ')';
  return s.str();
}

}  // namespace llmlab::emu::detail
