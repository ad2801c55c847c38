"""PyTorch's F.cross_entropy forward + backward (eager, and torch.compile) at the GPU
benchmark's shapes, float32, timed with CUDA events; then a classifier head's training step
(F.linear + F.cross_entropy, gradients for hidden, weight and bias) at the head's shapes. One JSON
object per line."""
import json

import torch
import torch.nn.functional as F

SHAPES = [(4096, 32000), (8192, 128256), (64, 1_000_000), (8, 2**24)]
HEADS = [(256, 256, 32768), (1024, 256, 131072), (4096, 4096, 128256), (64, 512, 2**20)]


def median_ms(fn, reps=20):
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    times.sort()
    return times[len(times) // 2]


def step(loss_fn, logits, labels):
    def run():
        logits.grad = None
        loss_fn(logits, labels).backward()
    return run


def main():
    compiled = torch.compile(F.cross_entropy)
    for B, C in SHAPES:
        gen = torch.Generator(device="cuda").manual_seed(0)
        logits = (torch.rand(B, C, device="cuda", generator=gen) - 0.5).mul_(8).requires_grad_()
        labels = torch.randint(0, C, (B,), device="cuda", generator=gen)
        row = {"gpu": torch.cuda.get_device_name(), "B": B, "C": C, "torch": torch.__version__}
        for name, fn in (("eager_ms", F.cross_entropy), ("compile_ms", compiled)):
            try:
                row[name] = round(median_ms(step(fn, logits, labels)), 4)
            except torch.cuda.OutOfMemoryError:
                row[name] = None
            torch.cuda.empty_cache()
        print(json.dumps(row), flush=True)
        del logits, labels
        torch.cuda.empty_cache()
    for N, D, C in HEADS:
        gen = torch.Generator(device="cuda").manual_seed(0)
        hidden = torch.rand(N, D, device="cuda", generator=gen).requires_grad_()
        weight = (torch.rand(C, D, device="cuda", generator=gen) * 0.01).requires_grad_()
        bias = torch.zeros(C, device="cuda").requires_grad_()
        labels = torch.randint(0, C, (N,), device="cuda", generator=gen)

        def head_step():
            hidden.grad = weight.grad = bias.grad = None
            F.cross_entropy(F.linear(hidden, weight, bias), labels).backward()

        row = {"gpu": torch.cuda.get_device_name(), "head": True, "N": N, "D": D, "C": C, "torch": torch.__version__}
        try:
            ms = median_ms(head_step, reps=10)
            row.update(eager_step_ms=round(ms, 4), effective_TFLOPs=round(6 * N * D * C / ms / 1e9, 2))
        except torch.cuda.OutOfMemoryError:
            row["eager_step_ms"] = None
        print(json.dumps(row), flush=True)
        del hidden, weight, bias, labels
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
