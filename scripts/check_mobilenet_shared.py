#!/usr/bin/python3
"""Checks the shared MobileNetV2 weights (and tf_same.py) against the stored TFLite-derived logits.

    /usr/bin/python3 scripts/check_mobilenet_shared.py [--shared ../shared] [--tol 1e-4]

Loads ../shared/pretrained/mobilenet_v2/<model>.tv.safetensors into torchvision mobilenet_v2 (own
safetensors reader), once with TF "SAME" padding on the five stride-2 convs (tf_same.py) and once with
torchvision's symmetric padding, runs testdata/inputs_224_u8.safetensors (NHWC uint8, per its header;
x = u8/127.5 - 1, permuted to NCHW) through both, and compares with testdata/expected_logits.safetensors
(keys "<model>.tf" and "<model>.sym") and testdata/expected_top5.json. Exit status 1 when a max abs
difference exceeds --tol or a top-5 index list differs.
"""
import argparse
import json
import os
import sys

import torch
from torchvision import models

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no scripts/__pycache__ in the work tree
sys.path.insert(0, HERE)
import safetensors_io  # noqa: E402
import tf_same  # noqa: E402

MODELS = ("mobilenet_v2_1.0_224_quant", "tf2_mobilenet_v2_1.0_224_ptq")


def load_inputs(path):
    header, _ = safetensors_io.read_header(path)
    meta = header.get("__metadata__", {})
    tensors, _ = safetensors_io.load(path)
    (name,) = list(tensors)
    u8 = tensors[name]
    if u8.dtype != torch.uint8 or u8.dim() != 4:
        raise ValueError(f"{path}: expected a 4-d uint8 tensor, got {u8.dtype} {list(u8.shape)}")
    layout = meta.get("layout", "")
    if "NHWC" in layout or (u8.shape[-1] == 3 and u8.shape[1] != 3):
        x = u8.permute(0, 3, 1, 2)
        layout = "NHWC"
    else:
        x = u8
        layout = "NCHW"
    x = x.contiguous().float() / 127.5 - 1.0
    names = meta.get("order", "").split(",") if meta.get("order") else [f"img{i}" for i in range(len(x))]
    return x, names, layout


def build(weights, tf_padding):
    m = models.mobilenet_v2(weights=None)
    if tf_padding:
        tf_same.apply_tf_same(m)
    tf_same.load_state_dict_file(m, weights)
    return m.eval()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=os.path.join(HERE, "..", "..", "shared"))
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    base = os.path.join(args.shared, "pretrained", "mobilenet_v2")
    td = os.path.join(base, "testdata")
    x, names, layout = load_inputs(os.path.join(td, "inputs_224_u8.safetensors"))
    print(f"inputs: {list(x.shape)} (stored {layout}), images {names}, "
          f"x range [{x.min():.4f}, {x.max():.4f}]")
    expected, _ = safetensors_io.load(os.path.join(td, "expected_logits.safetensors"))
    with open(os.path.join(td, "expected_top5.json")) as f:
        top5 = json.load(f)["expected"]

    ok = True
    for model in MODELS:
        weights = os.path.join(base, model + ".tv.safetensors")
        for mode in ("tf", "sym"):
            net = build(weights, tf_padding=(mode == "tf"))
            with torch.no_grad():
                logits = net(x)
            ref = expected[f"{model}.{mode}"]
            diff = (logits - ref).abs()
            per_img = diff.amax(dim=1)
            probs = logits.softmax(dim=1)
            line = (f"{model:30s} {mode:3s}  max|diff| {diff.max().item():.3e}  "
                    f"(per image {', '.join(f'{d:.1e}' for d in per_img.tolist())})")
            bad = diff.max().item() > args.tol
            exp5 = top5.get(model + ".tv.safetensors", {}).get(mode, {})
            tops = []
            for i, n in enumerate(names):
                got = logits[i].topk(5).indices.tolist()
                want = [e["index"] for e in exp5.get(n, [])]
                if want and got != want:
                    bad = True
                p_diff = max((abs(probs[i, e["index"]].item() - e["prob"]) for e in exp5.get(n, [])),
                             default=float("nan"))
                tops.append(f"{n.split('.')[0]}: top1 {got[0]} p={probs[i, got[0]]:.3f} "
                            f"top5 {'==' if got == want else '!='} json (max|dprob| {p_diff:.1e})")
            print(line + ("  FAIL" if bad else "  ok"))
            for t in tops:
                print("    " + t)
            ok &= not bad
    # TF SAME also for odd sizes: 225x225 pads (1,1) on every stride-2 conv, i.e. equals torchvision
    w = os.path.join(base, MODELS[0] + ".tv.safetensors")
    xo = torch.nn.functional.interpolate(x[:1], size=(225, 225), mode="bilinear", align_corners=False)
    with torch.no_grad():
        d_odd = (build(w, True)(xo) - build(w, False)(xo)).abs().max().item()
    print(f"odd size 225: max|TF SAME - symmetric| = {d_odd:.3e} (expected ~0: TF pads 1/1 there)")
    ok &= d_odd <= 1e-5
    print("RESULT:", "OK" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
