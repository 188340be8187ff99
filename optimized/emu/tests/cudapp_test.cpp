/// \file
/// \ingroup group_emulator
/// \brief llmlab-cudapp on tricky inputs: what is a launch and what is not, and the line numbers.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cudapp.hpp"

namespace {

using llmlab::cudapp::preprocess;

// The output without its two header lines (the #include and the first #line).
std::string body(const std::string& src) {
  std::string out = preprocess(src, "k.cu");
  for (int i = 0; i < 2; ++i) out.erase(0, out.find('\n') + 1);
  return out;
}

int launches(const std::string& out) {
  int n = 0;
  for (std::size_t p = 0; (p = out.find("launch_chevrons(", p)) != std::string::npos; ++p) ++n;
  return n;
}

TEST(Cudapp, StartsWithTheEmulatorAndALineDirective) {
  const std::string out = preprocess("int x;\n", "dir/my \"file\".cu");
  EXPECT_EQ(out.find("#include <llmlab/emu/chevrons.hpp>"), 0u);
  EXPECT_NE(out.find("\n#line 1 \"dir/my \\\"file\\\".cu\"\nint x;\n"), std::string::npos);
}

TEST(Cudapp, RewritesTwoThreeAndFourArgumentLaunches) {
  EXPECT_EQ(body("k<<<g, b>>>(x, n);"),
            "::llmlab::emu::launch_chevrons(::llmlab::emu::Chevrons(g, b), \"k\", [&](auto&&... "
            "llmlab_emu_args) { k(static_cast<decltype(llmlab_emu_args)&&>(llmlab_emu_args)...); }, x, n);");
  EXPECT_NE(body("k<<<g, b, s>>>(x);").find("Chevrons(g, b, s)"), std::string::npos);
  EXPECT_NE(body("k<<<dim3(a, b), f(c, d), 4 * sizeof(float), st>>>(x);")
                .find("Chevrons(dim3(a, b), f(c, d), 4 * sizeof(float), st)"),
            std::string::npos);
  EXPECT_NE(body("k<<<1, 1>>>();").find("llmlab_emu_args)...); })"), std::string::npos);
}

TEST(Cudapp, KeepsTemplateArgumentsAndQualifiedNames) {
  const std::string out = body("ns::k<T, std::pair<int, A<B>>, (N > 2)><<<1, 32>>>(p);");
  EXPECT_NE(out.find("{ ns::k<T, std::pair<int, A<B>>, (N > 2)>(static_cast"), std::string::npos) << out;
  EXPECT_NE(out.find("\"ns::k<T, std::pair<int, A<B>>, (N > 2)>\""), std::string::npos) << out;
  EXPECT_NE(body("::k<<<1, 1>>>(p);").find("{ ::k(static_cast"), std::string::npos);
  EXPECT_NE(body("a::template k<float><<<1, 1>>>(p);").find("{ a::template k<float>(static_cast"),
            std::string::npos);
  EXPECT_NE(body("(*fp)<<<1, 1>>>(p);").find("{ (*fp)(static_cast"), std::string::npos);
}

TEST(Cudapp, IgnoresCommentsStringsAndCharacterLiterals) {
  const std::string src =
      "// k<<<1, 1>>>(a);\n/* k<<<1, 1>>>(a); */\nconst char* s = \"k<<<1, 1>>>(a)\";\n"
      "const char* r = R\"x(k<<<1,1>>>(a) )\" )x\";\nchar c = '<'; char d = '\\'';\n";
  EXPECT_EQ(body(src), src);
}

TEST(Cudapp, ShiftsAndNestedTemplatesAreNotLaunches) {
  const std::string src =
      "bool x = a<b>>c; int y = a << b; std::vector<std::vector<std::vector<int>>> v;\n"
      "template <class T> std::ostream& operator<<<T>(std::ostream&, const T&);\n";
  EXPECT_EQ(body(src), src);
}

TEST(Cudapp, LambdasAndBracesInArguments) {
  const std::string out = body("k<<<1, 1>>>(p, [&](int i) { return v[i] >> 1; }(3), S{1, 2});");
  EXPECT_EQ(launches(out), 1);
  EXPECT_NE(out.find("}, p, [&](int i) { return v[i] >> 1; }(3), S{1, 2});"), std::string::npos) << out;
}

TEST(Cudapp, ALaunchOverSeveralLinesKeepsTheLineCount) {
  const std::string src = "void f() {\n  k<float>\n  <<<a,\n     b>>>(x,\n         y);\n  g();\n}\n";
  const std::string out = body(src);
  EXPECT_EQ(launches(out), 1);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), std::count(src.begin(), src.end(), '\n'));
  EXPECT_NE(out.find("\n  g();\n}\n"), std::string::npos);
  // g() is still on line 6
  std::size_t line = 1, pos = 0;
  while (pos < out.find("g();")) {
    if (out[pos] == '\n') ++line;
    ++pos;
  }
  EXPECT_EQ(line, 6u);
}

TEST(Cudapp, ExternSharedInAFunctionBecomesAPointer) {
  EXPECT_EQ(body("__global__ void k() { extern __shared__ __align__(16) float s[]; s[0] = 1; }"),
            "__global__ void k() { float* const s = static_cast<float*>(::llmlab::emu::dynamic_shared_memory()); s[0] = 1; }");
  EXPECT_NE(body("template <class T> __device__ T* f() {\n extern __shared__ alignas(16) T buf[];\n return buf; }")
                .find("T* const buf = static_cast<T*>"),
            std::string::npos);
  EXPECT_NE(body("void k() { extern __shared__ __attribute__((aligned(8))) unsigned char raw[]; }")
                .find("unsigned char* const raw ="),
            std::string::npos);
}

TEST(Cudapp, ExternSharedAtNamespaceScopeBecomesAMacroAndKeepsLines) {
  const std::string out = body("namespace n {\nextern __shared__ float4 tile[];\n}\nint after;\n");
  EXPECT_NE(out.find("#define tile (static_cast<float4*>(::llmlab::emu::dynamic_shared_memory()))\n#line 2 \"k.cu\"\n\n}\nint after;"),
            std::string::npos)
      << out;
}

TEST(Cudapp, RefusesUnsupportedConstructsWhereTheyAreCompiled) {
  EXPECT_NE(body("__device__ int f() { asm volatile(\"trap;\"); }").find(
                "_Pragma(\"GCC error \\\"llmlab emu: inline PTX/assembly (`asm`) is not supported"),
            std::string::npos);
  EXPECT_NE(body("float v = tex2D<float>(t, x, y);").find("texture/surface memory (`tex2D`)"),
            std::string::npos);
  EXPECT_NE(body("cudaGraph_t g; cudaStreamBeginCapture(s, m);").find("CUDA graphs (`cudaGraph_t`)"),
            std::string::npos);
  const std::string nested = body("__global__ void parent() { child<<<1, 1>>>(); }\n__host__ void h() { child<<<1, 1>>>(); }");
  EXPECT_NE(nested.find("dynamic parallelism"), std::string::npos);
  EXPECT_EQ(nested.find("dynamic parallelism", nested.find("h()")), std::string::npos);  // host code is fine
  EXPECT_EQ(launches(nested), 2);
}

TEST(Cudapp, ReportsWhatItCannotRead) {
  EXPECT_THROW(preprocess("k<<<1, 1>>>;", "k.cu"), llmlab::cudapp::SyntaxError);
  EXPECT_THROW(preprocess("k<<<1, 1;", "k.cu"), llmlab::cudapp::SyntaxError);
  EXPECT_THROW(preprocess("/* open", "k.cu"), llmlab::cudapp::SyntaxError);
  try {
    preprocess("int a;\n\nk<<<1, 1 ;\n", "k.cu");
    FAIL();
  } catch (const llmlab::cudapp::SyntaxError& e) {
    EXPECT_EQ(e.line, 3);
    EXPECT_NE(std::string(e.what()).find("k.cu:3: error: llmlab-cudapp: launch configuration without `>>>`"),
              std::string::npos)
        << e.what();
  }
}

TEST(Cudapp, RewritesLocalHeadersWithLaunchesAndListsThemAsDependencies) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("cudapp_test_" + std::to_string(::getpid()));
  fs::create_directories(dir / "inc");
  std::ofstream(dir / "inc" / "launch.cuh") << "#include \"plain.h\"\nvoid go() { k<<<1, 1>>>(); }\n";
  std::ofstream(dir / "inc" / "plain.h") << "int plain();\n";
  std::vector<std::string> deps;
  llmlab::cudapp::Options options;
  options.header_dir = (dir / "out").string();
  options.dependencies = &deps;
  const std::string out =
      preprocess("#include \"inc/launch.cuh\"\n#include \"missing.h\"\n", (dir / "main.cu").string(), options);
  std::string flat = fs::absolute(dir / "inc" / "launch.cuh").lexically_normal().string();
  std::replace(flat.begin(), flat.end(), '/', '_');
  const fs::path rewritten = dir / "out" / flat;
  EXPECT_NE(out.find("#include \"" + rewritten.string() + "\"\n#include \"missing.h\"\n"), std::string::npos) << out;
  std::ifstream in(rewritten);
  std::stringstream header;
  header << in.rdbuf();
  EXPECT_EQ(launches(header.str()), 1) << header.str();
  // the copy's own "relative" include names the original's neighbour
  EXPECT_NE(header.str().find("#include \"" + (dir / "inc" / "plain.h").lexically_normal().string() + "\""),
            std::string::npos) << header.str();
  EXPECT_EQ(deps.size(), 2u);
  fs::remove_all(dir);
}

}  // namespace
