// CPU-only test: the FP64 reference functions of reference.h against the
// 50-digit values in shared/reference/activations_{default,clamped}.csv
// (columns name,x,y,dy_dx,dy_dw,dy_da,dy_db). Every GPU test trusts reference.h,
// so it is checked here first.
//
//   reference_check DIR     (DIR holds the CSV files; exit 77 if they are absent)
//
// Tolerance: relative 1e-12, or absolute 1e-60 (the CSV prints exact 0 where
// the true value is below its 50-digit working precision, e.g. tanhrelu'(-100)).
//
// Known inaccuracy of the CSV: mish at x = -100 (y and dy_dx) is correct to
// only ~7 digits (csv y = -3.7200760688535691e-42; the true value, e.g. from
// mpmath at 80 digits, is -3.720075976020836e-42 = -100 e^-100 to 16 digits).
// The generator evidently formed tanh(softplus(x)) with a cancellation
// (e^(2 sp) - 1, sp ~ 3.7e-44) inside its 50-digit arithmetic. Those two
// values are checked at 1e-7 and reported as a note.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "reference.h"

namespace {

struct Clamp {
    double lo, hi;
    double apply(double raw) const { return std::min(hi, std::max(lo, raw)); }
    bool passes(double raw) const { return raw >= lo && raw <= hi; }  // gradient flows, bounds included
};
const Clamp kW{0.1, 0.5}, kA{0.5, 3.0}, kB{0.5, 3.0};

bool act_of(const std::string& s, ref::Act& out) {
    for (ref::Act a : ref::kAllActs)
        if (s == ref::name(a)) {
            out = a;
            return true;
        }
    return false;
}

struct Result {
    long long rows = 0, values = 0, fails = 0;
    double max_rel = 0;
};

bool close(double got, double want, double rel_tol, Result& r) {
    ++r.values;
    const double err = std::fabs(got - want);
    const double rel = want != 0 ? err / std::fabs(want) : err;
    if (err <= 1e-60) return true;
    if (rel_tol <= 1e-12 && rel > r.max_rel) r.max_rel = rel;
    return rel <= rel_tol;
}

// The CSV values known to be less accurate than 1e-12 (see the header).
bool known_inaccurate(ref::Act act, double x, int column) {
    return act == ref::Act::Mish && x == -100.0 && (column == 2 || column == 3);
}

// raw Nami parameters of the file; returns false when the file is missing.
bool check_file(const std::string& path, double raw_w, double raw_a, double raw_b, Result& r) {
    std::ifstream in(path);
    if (!in) return false;
    const ref::Params p{kW.apply(raw_w), kA.apply(raw_a), kB.apply(raw_b)};
    const bool pass_grad[3] = {kW.passes(raw_w), kA.passes(raw_a), kB.passes(raw_b)};
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        std::vector<std::string> col;
        std::stringstream ss(line);
        std::string c;
        while (std::getline(ss, c, ',')) col.push_back(c);
        while (col.size() < 7) col.push_back("");
        ref::Act act;
        if (!act_of(col[0], act)) {
            std::printf("  unknown activation '%s' in %s\n", col[0].c_str(), path.c_str());
            ++r.fails;
            continue;
        }
        ++r.rows;
        const double x = std::strtod(col[1].c_str(), nullptr);
        double got[5] = {ref::value(act, x, p), ref::derivative(act, x, p), 0, 0, 0};
        int ncols = 2;
        if (act == ref::Act::Nami) {
            ref::nami_partials(x, p, got + 2);
            for (int k = 0; k < 3; ++k)
                if (!pass_grad[k]) got[2 + k] = 0.0;  // the clamp blocks the gradient
            ncols = 5;
        }
        for (int k = 0; k < ncols; ++k) {
            const double want = std::strtod(col[2 + k].c_str(), nullptr);
            const bool known = known_inaccurate(act, x, 2 + k);
            if (known)
                std::printf("  note: %s x=%s column %d: csv %.17g is accurate to ~1e-7 only; reference.h %.17g\n",
                            col[0].c_str(), col[1].c_str(), 2 + k, want, got[k]);
            if (!close(got[k], want, known ? 1e-7 : 1e-12, r)) {
                if (r.fails < 10)
                    std::printf("  MISMATCH %s x=%s column %d: reference.h %.17g, csv %.17g\n", col[0].c_str(),
                                col[1].c_str(), 2 + k, got[k], want);
                ++r.fails;
            }
        }
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s SHARED_REFERENCE_DIR\n", argv[0]);
        return 2;
    }
    const std::string dir = argv[1];
    Result def, clamped;
    const bool have_def = check_file(dir + "/activations_default.csv", 0.3, 1.0, 1.5, def);
    const bool have_clamped = check_file(dir + "/activations_clamped.csv", 0.05, 3.5, 0.8, clamped);
    if (!have_def || !have_clamped) {
        std::printf("SKIP: reference CSV files not found in %s\n", dir.c_str());
        return 77;
    }
    std::printf("activations_default.csv: %lld rows, %lld values, max rel err %.3e (excluding noted values), %lld mismatches\n", def.rows,
                def.values, def.max_rel, def.fails);
    std::printf("activations_clamped.csv: %lld rows, %lld values, max rel err %.3e (excluding noted values), %lld mismatches\n", clamped.rows,
                clamped.values, clamped.max_rel, clamped.fails);
    const bool ok = def.fails == 0 && clamped.fails == 0 && def.rows > 0 && clamped.rows > 0;
    std::printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
