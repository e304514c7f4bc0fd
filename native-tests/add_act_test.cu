// activa_add_act_{fwd,bwd}_{act}_{f32,f16}: y = act(a_in + b_in) and
// dz = dy * act'(a_in + b_in), every activation, FP32 and FP16, Nami's dparams;
// then bandwidth over 2^26 elements. See act_harness.h.
#include "act_harness.h"

int main() { return acttest::run_all<true>(); }
