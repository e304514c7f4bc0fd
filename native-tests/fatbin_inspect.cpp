// CPU-only test: inspects the fatbin kernels/build.sh produced, without a GPU
// and without cuobjdump:
//   * it holds SASS (ELF) for sm_80, sm_86, sm_89, sm_90 and PTX for sm_90;
//   * every name in expected_symbols.txt is present, unmangled, in every ELF
//     entry, and no other activa_* kernel is (no stray or mangled symbols).
//
//   fatbin_inspect FATBIN EXPECTED_SYMBOLS      (exit 77 if FATBIN is absent,
//                                                e.g. built without nvcc)
//
// The fatbin container layout is not documented by NVIDIA. This reads the
// fields cuobjdump reports, at the offsets nvcc 12.x/13.x write them:
//   file header:  u32 magic 0xBA55ED50, u16 version, u16 header size, u64 payload size
//   entry header: u16 kind (1 PTX, 2 ELF), u16 version, u32 header size,
//                 u32 payload size (padded) ... u32 sm arch at +28 ...
//                 u64 uncompressed size at +56 (0: stored uncompressed)
// If the layout ever changes, this test fails loudly (bad magic / sizes) rather
// than passing silently; cuobjdump --list-elf --list-ptx is the ground truth.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

namespace {

template <typename T>
T read_at(const std::vector<unsigned char>& d, size_t off) {
    T v;
    std::memcpy(&v, d.data() + off, sizeof(T));
    return v;
}

// The activa_* identifiers among the NUL-separated strings of an ELF image
// (symbol and section names such as ".text.activa_x", ".nv.info.activa_x").
// A mangled name (_Z...activa_...) is reported as found verbatim, so it fails.
std::set<std::string> activa_names(const unsigned char* p, size_t n) {
    std::set<std::string> out;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && p[j] != 0) ++j;
        std::string s(reinterpret_cast<const char*>(p + i), j - i);
        const size_t dot = s.rfind('.');
        const std::string last = dot == std::string::npos ? s : s.substr(dot + 1);
        const size_t at = last.find("activa_");
        if (at == 0) out.insert(last);
        else if (at != std::string::npos) out.insert(last);  // prefix before activa_: mangled or foreign
        i = j + 1;
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s FATBIN EXPECTED_SYMBOLS\n", argv[0]);
        return 2;
    }
    std::ifstream f(argv[1], std::ios::binary);
    if (!f) {
        std::printf("SKIP: no fatbin at %s (kernels not built: nvcc missing?)\n", argv[1]);
        return 77;
    }
    const std::vector<unsigned char> d((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::set<std::string> expected;
    {
        std::ifstream s(argv[2]);
        std::string line;
        while (std::getline(s, line))
            if (!line.empty() && line[0] != '#') expected.insert(line);
    }
    bool ok = true;
    if (d.size() < 16 || read_at<uint32_t>(d, 0) != 0xBA55ED50u) {
        std::printf("FAIL: %s is not a fatbin (magic)\n", argv[1]);
        return 1;
    }
    const size_t hsize = read_at<uint16_t>(d, 6);
    const uint64_t fsize = read_at<uint64_t>(d, 8);
    if (hsize + fsize != d.size()) {
        std::printf("FAIL: header says %zu + %llu bytes, file has %zu\n", hsize, static_cast<unsigned long long>(fsize),
                    d.size());
        return 1;
    }
    std::printf("fatbin %s: %zu bytes, %zu expected symbols\n", argv[1], d.size(), expected.size());
    std::set<int> elf_archs, ptx_archs;
    int checked_elf = 0;
    size_t off = hsize;
    while (off < d.size()) {
        if (off + 64 > d.size()) {
            std::printf("FAIL: truncated entry header at %zu\n", off);
            return 1;
        }
        const uint16_t kind = read_at<uint16_t>(d, off);
        const uint32_t ehsize = read_at<uint32_t>(d, off + 4);
        const uint32_t psize = read_at<uint32_t>(d, off + 8);
        const uint32_t arch = read_at<uint32_t>(d, off + 28);
        const uint64_t uncompressed = read_at<uint64_t>(d, off + 56);
        if (ehsize < 64 || off + ehsize + psize > d.size()) {
            std::printf("FAIL: bad entry at %zu (header %u, payload %u)\n", off, ehsize, psize);
            return 1;
        }
        std::printf("  entry: %s sm_%u, %u bytes%s\n", kind == 1 ? "PTX" : kind == 2 ? "ELF" : "???", arch, psize,
                    uncompressed ? " (compressed)" : "");
        if (kind == 1) ptx_archs.insert(static_cast<int>(arch));
        if (kind == 2) {
            elf_archs.insert(static_cast<int>(arch));
            if (!uncompressed) {
                ++checked_elf;
                const std::set<std::string> found = activa_names(d.data() + off + ehsize, psize);
                for (const std::string& e : expected)
                    if (!found.count(e)) {
                        std::printf("    MISSING in sm_%u: %s\n", arch, e.c_str());
                        ok = false;
                    }
                for (const std::string& s : found)
                    if (!expected.count(s)) {
                        std::printf("    UNEXPECTED in sm_%u: %s\n", arch, s.c_str());
                        ok = false;
                    }
            }
        }
        off += ehsize + psize;
    }
    for (int a : {80, 86, 89, 90})
        if (!elf_archs.count(a)) {
            std::printf("  MISSING SASS for sm_%d\n", a);
            ok = false;
        }
    if (!ptx_archs.count(90)) {
        std::printf("  MISSING PTX for compute_90\n");
        ok = false;
    }
    if (checked_elf == 0) {
        std::printf("  note: every ELF entry is compressed; symbol names not checked here (fatbin_load_test does)\n");
    } else {
        std::printf("  symbol names checked in %d ELF entries\n", checked_elf);
    }
    std::printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
