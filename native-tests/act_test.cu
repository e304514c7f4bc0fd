// activa_act_{fwd,bwd}_{act}_{f32,f16}: every activation, forward and backward,
// FP32 and FP16, Nami's dparams; then bandwidth over 2^26 elements.
// See act_harness.h for what is checked and how.
#include "act_harness.h"

int main() { return acttest::run_all<false>(); }
