"""PyTorch CPU eager beside `mixloss bench head`: one training step of F.linear + F.cross_entropy
with respect to hidden, weight and bias, in this process (its peak memory is this process's).
Prints one JSON line: {"ms": median, "peakMB": peak above the inputs, "torch": version}."""
import json
import sys
import time

import torch
import torch.nn.functional as F


def status_mb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak_mb():
    """What the process holds now, its peak reset to it (Linux: 5 into clear_refs)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return status_mb("VmRSS")


def main():
    n, d, c, threads, reps = (int(v) for v in sys.argv[1:6])
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(1)
    hidden = (torch.rand(n, d, generator=g) * 2 - 1).requires_grad_()
    # nn.Linear's layout [C, D]: F.linear's own, no transpose in the step.
    weight = ((torch.rand(c, d, generator=g) * 2 - 1) * 0.05).requires_grad_()
    bias = ((torch.rand(c, generator=g) * 2 - 1) * 0.05).requires_grad_()
    labels = torch.randint(0, c, (n,), generator=g)
    base = reset_peak_mb()

    def step():
        loss = F.cross_entropy(F.linear(hidden, weight, bias), labels)
        loss.backward()
        hidden.grad = weight.grad = bias.grad = None

    step()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    print(json.dumps({"ms": times[len(times) // 2], "peakMB": status_mb("VmHWM") - base, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
