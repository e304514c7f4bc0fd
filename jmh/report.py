#!/usr/bin/env python3
"""Turns a JMH JSON result (java -jar benchmarks.jar -rf json -rff FILE) into a Markdown table.

Every figure is shown in absolute terms and as a fraction of the limit measured in the same
run: SGEMM and convolution GFLOP/s against FmaPeak's GFLOP/s, activation GB/s against
MemoryCopy's GB/s. Flops and bytes per operation are counted from the benchmark parameters:

  SGEMM       2·M·N·K                                       (shape "MxNxK")
  conv fwd    2·N·K·C·R·S·Ho·Wo                              (layer "N,C,H,K,R,stride,pad", or with colons)
  conv f+b    3 × the forward (forward, input and weight gradients)
              Where the CPU backend runs a layer by Winograd F(2×2, 3×3) (3×3, stride 1, padding 1:
              see WinogradConv), it multiplies 16/36 as often; the count stays the direct one, so
              the figure is an effective rate, as cuDNN's and oneDNN's benchmarks count it.
  activation  forward 8 B/element (read x, write y); backward 12 B/element (read x, dy, write dx).
              MemoryCopy.arraycopy is the limit; MemoryCopy.vectorLoop, the same copy written with
              vector loads and stores (the stores Java code has: no non-temporal ones), is shown
              beside each activation as "loop".
              The 70% target applies to forwardInto/backwardInto, the kernels writing into a
              preallocated tensor as MemoryCopy writes into a preallocated array, and to
              backwardInPlace (dx over dy, as training's backward writes it); forward/backward,
              which also allocate (and the JVM zeroes) their result, are shown beside them.
              ActivationVsCopy times each kernel and a copy of 2^24 floats in the same
              invocations (aux counters), a limit from the same seconds on a noisy host.
  batch norm  BatchNormBench (training mode): forward 12 B/element (read x for the statistics, read it
              again and write y), backward 20 B/element (read x and dy for the sums, again for dx,
              write dx over dy), against MemoryCopy.arraycopy; no target (the late layers' tensors
              fit in the caches, where the fraction can pass 100%).
  compute     ActivationCompute: ns per 16-lane vector on one core with data in L1, beside the
              time the copy bandwidth leaves one core for that vector's bytes.
  GPU         CudaActivationBench on 2^26 elements: forward 2 tensors' bytes (read x, write y),
              backward 3 (read x, dy, write dx), at 4 B (fp32) or 2 B (fp16) an element, against
              CudaMemoryCopy's GB/s for the same dtype (a device-to-device copy, 2 tensors' bytes)
              in the same run; target 85%.

Usage: report.py RESULT.json [--limits OTHER.json]
  --limits takes FmaPeak and MemoryCopy from another result when RESULT.json lacks them
  (say, a run of one benchmark class); the table then says so.
Standard library only.
"""
import argparse
import json
import re
import sys

# Targets (fraction of the limit) the CPU kernels are held to; None: shown without a target.
TARGETS = {"sgemm": 0.40, "conv forward": None, "conv fwd+bwd": 0.30, "activation": 0.70,
           "activation, allocating": None, "batch norm": None, "activation vs copy, same window": 0.70, "gpu activation": 0.85}
ACTIVATION_ELEMENTS = 1 << 24
GPU_ELEMENTS = 1 << 26
DTYPE_BYTES = {"fp32": 4, "fp16": 2}

TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def ops_per_second(metric):
    """The primary metric as operations per second, whatever JMH mode and time unit it used."""
    score, unit = metric["score"], metric["scoreUnit"]
    if unit.startswith("ops/"):
        return score / TIME_UNITS[unit[4:]]
    if unit.endswith("/op"):
        return 1.0 / (score * TIME_UNITS[unit[:-3]])
    raise ValueError("unknown JMH unit " + unit)


def seconds_per_op(metric):
    return 1.0 / ops_per_second(metric)


def spread(metric):
    """JMH's 99.9% error as a percentage of the score; a large one means a noisy machine."""
    err, score = metric.get("scoreError"), metric["score"]
    if not isinstance(err, (int, float)) or err != err or score == 0:  # "NaN" (a string) with few iterations
        return ""
    return "%.0f%%" % (100.0 * err / score)


def short_name(result):
    cls, method = result["benchmark"].rsplit(".", 2)[-2:]
    return cls, method


def limits_of(results):
    """FMA peak (flop/s), copy bandwidth (byte/s) and the copy's thread count (one per core)."""
    peak = copy = copy_threads = None
    for r in results:
        cls, method = short_name(r)
        if cls == "FmaPeak":
            peak = ops_per_second(r["primaryMetric"])  # one op = one flop
        elif cls == "MemoryCopy" and method == "arraycopy":
            copy = ops_per_second(r["primaryMetric"])  # one op = one byte
            copy_threads = r.get("threads", 1)
    return peak, copy, copy_threads


def loop_copy_of(results):
    """MemoryCopy.vectorLoop's bandwidth (byte/s): a copy with the stores Java code can issue."""
    for r in results:
        if short_name(r) == ("MemoryCopy", "vectorLoop"):
            return ops_per_second(r["primaryMetric"])
    return None


def activation_bytes(method):
    """Bytes an activation call is credited with: 8 per element forward, 12 backward."""
    return (12 if method.startswith("backward") else 8) * ACTIVATION_ELEMENTS


def batch_norm_bytes(layer, method):
    """Bytes a batch-norm call must move: 12 per element forward, 20 backward (layer "N,C,H")."""
    n, c, h = (int(v) for v in re.split(r"[,:]", layer))
    return (20 if method == "backward" else 12) * n * c * h * h


def gpu_bytes(cls, method, dtype):
    """Bytes a GPU call moves: 2 tensors for a forward or a copy, 3 for a backward."""
    tensors = 3 if cls == "CudaActivationBench" and method == "backward" else 2
    return tensors * GPU_ELEMENTS * DTYPE_BYTES[dtype]


def gpu_copy_of(results):
    """The device-to-device copy bandwidth (byte/s) per dtype, from CudaMemoryCopy."""
    rates = {}
    for r in results:
        cls, method = short_name(r)
        if cls == "CudaMemoryCopy":
            dtype = r["params"]["dtype"]
            rates[dtype] = gpu_bytes(cls, method, dtype) / seconds_per_op(r["primaryMetric"])
    return rates


def conv_flops(layer):
    n, c, h, k, r, stride, pad = (int(v) for v in re.split(r"[,:]", layer))
    ho = (h + 2 * pad - r) // stride + 1
    return 2 * n * k * c * r * r * ho * ho


def fmt_pct(value, limit):
    return "n/a" if limit is None else "%.1f%%" % (100.0 * value / limit)


def verdict(kind, value, limit):
    target = TARGETS.get(kind)
    if target is None or limit is None:
        return ""
    return "%.0f%%: %s" % (100 * target, "met" if value / limit >= target else "MISSED")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("result")
    ap.add_argument("--limits", help="take FmaPeak/MemoryCopy from this result instead")
    args = ap.parse_args()
    with open(args.result) as f:
        results = json.load(f)
    peak, copy, cores = limits_of(results)
    gpu_copy = gpu_copy_of(results)
    loop_copy = loop_copy_of(results)
    source = "this run"
    if args.limits:
        with open(args.limits) as f:
            p2, c2, t2 = limits_of(json.load(f))
        peak, copy, cores = peak or p2, copy or c2, cores or t2
        source = "this run where present, else " + args.limits

    out = []
    out.append("Limits (%s): FMA peak %s GFLOP/s, copy bandwidth %s GB/s (read + write bytes)."
               % (source, "n/a" if peak is None else "%.1f" % (peak / 1e9),
                  "n/a" if copy is None else "%.1f" % (copy / 1e9)))
    if loop_copy is not None and copy is not None:
        out.append("The copy is System.arraycopy, whose stub writes with non-temporal stores; a loop of vector"
                   " loads and stores, as Java code (and so every kernel) must write, reached %.1f GB/s (%s of"
                   " it): kernels writing memory show that fraction too, as \"loop\"." % (
                       loop_copy / 1e9, fmt_pct(loop_copy, copy)))
    out.append("")
    out.append("| benchmark | parameters | time/op | ± | achieved | limit | fraction | target |")
    out.append("|---|---|---:|---:|---:|---:|---:|---|")
    for r in results:
        cls, method = short_name(r)
        params = r.get("params", {})
        m = r["primaryMetric"]
        ptxt = ", ".join("%s=%s" % kv for kv in params.items())
        if cls in ("FmaPeak", "MemoryCopy"):
            rate = ops_per_second(m)
            unit = "GFLOP/s" if cls == "FmaPeak" else "GB/s"
            if (cls, method) == ("MemoryCopy", "vectorLoop"):
                out.append("| %s.%s | %s | | %s | %.1f %s | %s | %s | (Java's stores) |" % (
                    cls, method, ptxt, spread(m), rate / 1e9, unit,
                    "n/a" if copy is None else "%.1f GB/s" % (copy / 1e9), fmt_pct(rate, copy)))
                continue
            out.append("| %s.%s | %s | | %s | %.1f %s | (the limit) | | |" % (cls, method, ptxt, spread(m), rate / 1e9, unit))
            continue
        t = seconds_per_op(m)
        if cls == "SgemmBench":
            mm, nn, kk = (int(v) for v in params["shape"].split("x"))
            work, limit, unit, kind = 2.0 * mm * nn * kk, peak, "GFLOP/s", "sgemm"
        elif cls == "Conv2dBench":
            f = conv_flops(params["layer"])
            fwd_bwd = method == "forwardBackward"
            work = 3.0 * f if fwd_bwd else float(f)
            limit, unit, kind = peak, "GFLOP/s", "conv fwd+bwd" if fwd_bwd else "conv forward"
        elif cls == "ResultAllocation":
            out.append("| %s.%s | | %.3f ms | %s | | | | (allocating and zeroing one 64 MiB result,"
                       " part of every activation time) |" % (cls, method, t * 1e3, spread(m)))
            continue
        elif cls == "ActivationVsCopy":
            # From the aux counters: the kernel's and the copy's time, summed over the same invocations.
            sec = r.get("secondaryMetrics", {})
            calls = sec["calls"]["score"]
            kernel_s = sec["kernelNanos"]["score"] * 1e-9 / calls
            copy_s = sec["copyNanos"]["score"] * 1e-9 / calls
            rate, window_copy = activation_bytes(method) / kernel_s, 8 * ACTIVATION_ELEMENTS / copy_s
            out.append("| %s.%s | %s | %.3f ms | %s | %.1f GB/s | %.1f GB/s (copy, same seconds) | %s | %s |" % (
                cls, method, ptxt, kernel_s * 1e3, spread(m), rate / 1e9, window_copy / 1e9,
                fmt_pct(rate, window_copy), verdict("activation vs copy, same window", rate, window_copy)))
            continue
        elif cls == "ActivationCompute":
            # ns per element (one thread, data in L1) → per 16-lane vector, against the time the copy
            # bandwidth gives one core for a vector's bytes (all cores share the copy's bandwidth).
            per_vector = t * 1e9 * 16
            bytes_per_vector = (12 if method == "backward" else 8) * 16
            budget = "" if copy is None else "%.2f ns (copy, per core)" % (bytes_per_vector / (copy / cores) * 1e9)
            out.append("| %s.%s | %s | %.2f ns/vector | %s | | %s | | |" % (cls, method, ptxt, per_vector, spread(m), budget))
            continue
        elif cls == "ActivationBench":
            kind = "activation" if method.endswith("Into") or method == "backwardInPlace" else "activation, allocating"
            work, limit, unit = float(activation_bytes(method)), copy, "GB/s"
        elif cls == "BatchNormBench":
            work, limit, unit, kind = float(batch_norm_bytes(params["layer"], method)), copy, "GB/s", "batch norm"
        elif cls == "CudaMemoryCopy":
            rate = gpu_copy[params["dtype"]]
            out.append("| %s.%s | %s | %.3f ms | %s | %.1f GB/s | (the GPU limit) | | |" % (
                cls, method, ptxt, t * 1e3, spread(m), rate / 1e9))
            continue
        elif cls == "CudaActivationBench":
            kind, unit = "gpu activation", "GB/s"
            work, limit = float(gpu_bytes(cls, method, params["dtype"])), gpu_copy.get(params["dtype"])
        else:
            out.append("| %s.%s | %s | %.3f ms | %s | | | | |" % (cls, method, ptxt, t * 1e3, spread(m)))
            continue
        rate = work / t
        lunit = "GFLOP/s" if unit == "GFLOP/s" else "GB/s"
        fraction = fmt_pct(rate, limit)
        if cls == "ActivationBench" and loop_copy is not None:
            fraction += " (loop %s)" % fmt_pct(rate, loop_copy)
        out.append("| %s.%s | %s | %.3f ms | %s | %.1f %s | %s | %s | %s |" % (
            cls, method, ptxt, t * 1e3, spread(m), rate / 1e9, unit,
            "n/a" if limit is None else "%.1f %s" % (limit / 1e9, lunit),
            fraction, verdict(kind, rate, limit)))
    out.append("")
    out.append("± is JMH's 99.9% error as a share of the score; above ~10% the machine was busy during"
               " that benchmark, and its fraction (or, for FmaPeak/MemoryCopy, every fraction) is unreliable.")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
