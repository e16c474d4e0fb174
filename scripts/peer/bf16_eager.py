"""bf16 against fp32 batch-1 inference on this CPU in PyTorch eager
(Debian's python3-torch, run with /usr/bin/python3): torchvision's
resnet152, densenet169 and mobilenet_v2 with random weights (seed 1), the
fp32 model and a bf16 copy of the same weights, timed in interleaved
rounds (median of 5 rounds of 5 forwards each, after 3 warm-up forwards),
and their agreement on 16 random inputs: top-1 equal, and the largest
logit difference relative to the largest fp32 logit. Evidence for the
harness's bf16 path (the CUDA issue, item 3), not a harness number.

    OMP_NUM_THREADS=2 /usr/bin/python3 scripts/peer/bf16_eager.py
"""
import statistics
import time

import torch
import torchvision

torch.set_num_threads(2)
torch.manual_seed(1)
for name in ["resnet152", "densenet169", "mobilenet_v2"]:
    m32 = getattr(torchvision.models, name)().eval()
    m16 = getattr(torchvision.models, name)().eval()
    m16.load_state_dict(m32.state_dict())
    m16 = m16.to(torch.bfloat16)
    x = torch.randn(1, 3, 224, 224)
    xs = [torch.randn(1, 3, 224, 224) for _ in range(16)]
    t = {"fp32": [], "bf16": []}
    with torch.inference_mode():
        for _ in range(3):
            m32(x); m16(x.bfloat16())
        for r in range(5):
            for prec in ("fp32", "bf16"):
                s = time.perf_counter()
                for _ in range(5):
                    if prec == "fp32":
                        m32(x)
                    else:
                        m16(x.bfloat16())
                t[prec].append((time.perf_counter() - s) / 5 * 1000)
        agree, rel = 0, 0.0
        for xi in xs:
            a = m32(xi); b = m16(xi.bfloat16()).float()
            agree += int(a.argmax() == b.argmax())
            rel = max(rel, float((a - b).abs().max() / a.abs().max()))
    f, h = statistics.median(t["fp32"]), statistics.median(t["bf16"])
    print(f"{name}: fp32 {f:.1f} ms, bf16 {h:.1f} ms (median of 5 rounds x 5), fp32/bf16 {f/h:.2f}x; top-1 agreement {agree}/16 random inputs, max |diff| / max |fp32| {rel:.3f}")
