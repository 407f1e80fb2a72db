// Runs a libFuzzer target's LLVMFuzzerTestOneInput once on every file of the folders given (a
// kept corpus: seeds and inputs that once crashed), as a normal test, without libFuzzer.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  std::size_t n = 0;
  for (int i = 1; i < argc; ++i)
    for (const auto& e : std::filesystem::directory_iterator(argv[i])) {
      if (!e.is_regular_file())
        continue;
      std::string bytes;
      if (std::FILE* f = std::fopen(e.path().c_str(), "rb")) {
        char buf[4096];
        for (std::size_t got = 0; (got = std::fread(buf, 1, sizeof buf, f)) > 0;)
          bytes.append(buf, got);
        std::fclose(f);
      } else {
        std::fprintf(stderr, "cannot read %s\n", e.path().c_str());
        return 1;
      }
      LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
      ++n;
    }
  std::printf("replayed %zu inputs\n", n);
  return n > 0 ? 0 : 1;
}
