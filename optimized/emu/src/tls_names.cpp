// The loaded module that holds a kernel (its TLS block: static __shared__ memory), and the names
// of static __shared__ variables for reports (names.hpp): the kernel module's STT_TLS
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
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "names.hpp"

namespace llmlab::emu::detail {
namespace {

struct TlsSymbol {
  std::size_t value = 0;  // offset in the module's TLS block
  std::size_t size = 0;
  std::string name;  // demangled
};

struct ModuleQuery {
  std::uintptr_t address = 0;  // in: an address in the module's code
  LoadedModule module;         // out
};

// The loaded module whose PT_LOAD segments hold `address`, and its TLS segment.
int find_module(dl_phdr_info* info, std::size_t, void* data) {
  auto* q = static_cast<ModuleQuery*>(data);
  bool holds = false;
  std::size_t tls = 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type == PT_LOAD && q->address - (info->dlpi_addr + ph.p_vaddr) < ph.p_memsz) holds = true;
    if (ph.p_type == PT_TLS) tls = ph.p_memsz;
  }
  if (!holds) return 0;
  q->module = {info->dlpi_name ? info->dlpi_name : "", info->dlpi_addr,
               tls ? info->dlpi_tls_modid : 0, tls};
  return 1;
}

// The STT_TLS symbols `elf` defines, from .symtab (local ones too: a function-local
// `static __shared__` is a local symbol), else .dynsym (a stripped file).
void collect_tls_symbols(Elf* elf, std::vector<TlsSymbol>& out) {
  Elf_Scn* table = nullptr;
  for (Elf_Scn* s = nullptr; (s = elf_nextscn(elf, s));) {
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
    if (const char* name = elf_strptr(elf, sh.sh_link, sym.st_name); name && *name)
      out.push_back({sym.st_value, sym.st_size, boost::core::demangle(name)});
  }
}

// The file's STT_TLS symbols sorted by value; none if it cannot be read.
std::vector<TlsSymbol> read_tls_symbols(const std::string& path) {
  std::vector<TlsSymbol> out;
  if (elf_version(EV_CURRENT) == EV_NONE) return out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  if (Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr)) {
    collect_tls_symbols(elf, out);
    elf_end(elf);
  }
  ::close(fd);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.value < b.value; });
  return out;
}

}  // namespace

std::optional<LoadedModule> module_of(const void* code_address) {
  ModuleQuery q;
  q.address = reinterpret_cast<std::uintptr_t>(code_address);
  if (!code_address || !::dl_iterate_phdr(find_module, &q)) return std::nullopt;
  return q.module;
}

std::optional<StaticVariable> static_variable(const void* code_address, std::size_t tls_offset) {
  const std::optional<LoadedModule> m = module_of(code_address);
  if (!m) return std::nullopt;
  static std::mutex mutex;
  static std::map<std::pair<std::string, std::uintptr_t>, std::vector<TlsSymbol>> cache;
  std::lock_guard lock(mutex);
  const auto key = std::make_pair(std::string(m->path), m->base);
  auto it = cache.find(key);
  if (it == cache.end()) {
    const std::string file = *m->path ? m->path : "/proc/self/exe";
    it = cache.emplace(key, read_tls_symbols(file)).first;
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
