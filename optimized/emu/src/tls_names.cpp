// Names of static __shared__ variables for reports (names.hpp): the kernel module's STT_TLS
// symbols, read with libelf (elfutils) from its symbol table, once per module and only when a
// report asks. dladdr does not resolve thread-local addresses and libbacktrace reads only function
// and object symbols, hence libelf.

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <link.h>
#include <unistd.h>

#include <algorithm>
#include <boost/core/demangle.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "names.hpp"

namespace llmlab::emu::detail {
namespace {

struct TlsSymbol {
  std::size_t value = 0;  // offset in the module's TLS block
  std::size_t size = 0;
  std::string name;       // demangled
};

struct Module {
  std::string path;  // "" for the main program
  std::uintptr_t base = 0;
};

// The loaded module whose PT_LOAD segments hold `address`.
int find_module(dl_phdr_info* info, std::size_t, void* data) {
  auto* q = static_cast<std::pair<std::uintptr_t, Module>*>(data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type == PT_LOAD && q->first - (info->dlpi_addr + ph.p_vaddr) < ph.p_memsz) {
      q->second = {info->dlpi_name ? info->dlpi_name : "", info->dlpi_addr};
      return 1;
    }
  }
  return 0;
}

// The STT_TLS symbols the file defines, from .symtab (local ones too: a function-local
// `static __shared__` is a local symbol), else .dynsym (a stripped file); sorted by value.
std::vector<TlsSymbol> read_tls_symbols(const std::string& path) {
  std::vector<TlsSymbol> out;
  if (elf_version(EV_CURRENT) == EV_NONE) return out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  const std::unique_ptr<const int, void (*)(const int*)> closing(&fd, [](const int* f) { ::close(*f); });
  const std::unique_ptr<Elf, int (*)(Elf*)> elf(elf_begin(fd, ELF_C_READ_MMAP, nullptr), elf_end);
  Elf_Scn* table = nullptr;
  for (Elf_Scn* s = nullptr; elf && (s = elf_nextscn(elf.get(), s));) {
    GElf_Shdr sh;
    if (!gelf_getshdr(s, &sh)) continue;
    if (sh.sh_type == SHT_SYMTAB) table = s;
    if (sh.sh_type == SHT_DYNSYM && !table) table = s;
  }
  GElf_Shdr sh;
  Elf_Data* data = table && gelf_getshdr(table, &sh) ? elf_getdata(table, nullptr) : nullptr;
  for (std::size_t i = 0; data && sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; ++i) {
    GElf_Sym sym;
    if (!gelf_getsym(data, static_cast<int>(i), &sym) || GELF_ST_TYPE(sym.st_info) != STT_TLS ||
        sym.st_shndx == SHN_UNDEF || sym.st_size == 0)
      continue;
    if (const char* name = elf_strptr(elf.get(), sh.sh_link, sym.st_name); name && *name)
      out.push_back({sym.st_value, sym.st_size, boost::core::demangle(name)});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.value < b.value; });
  return out;
}

}  // namespace

std::optional<StaticVariable> static_variable(const void* code_address, std::size_t tls_offset) {
  std::pair<std::uintptr_t, Module> q{reinterpret_cast<std::uintptr_t>(code_address), {}};
  if (!code_address || !::dl_iterate_phdr(find_module, &q)) return std::nullopt;
  static std::mutex mutex;
  static std::map<std::pair<std::string, std::uintptr_t>, std::vector<TlsSymbol>> cache;
  std::lock_guard lock(mutex);
  auto key = std::make_pair(q.second.path, q.second.base);
  auto it = cache.find(key);
  if (it == cache.end()) {
    const std::string file = q.second.path.empty() ? "/proc/self/exe" : q.second.path;
    it = cache.emplace(std::move(key), read_tls_symbols(file)).first;
  }
  const std::vector<TlsSymbol>& symbols = it->second;
  // The last symbol starting at or before the offset, if it reaches that far.
  auto s = std::upper_bound(symbols.begin(), symbols.end(), tls_offset,
                            [](std::size_t o, const TlsSymbol& t) { return o < t.value; });
  if (s == symbols.begin()) return std::nullopt;
  --s;
  if (tls_offset - s->value >= s->size) return std::nullopt;
  return StaticVariable{s->name, s->size, tls_offset - s->value};
}

}  // namespace llmlab::emu::detail
