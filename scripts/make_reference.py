#!/usr/bin/python3
"""Generates PyTorch reference outputs for Tuna's Java tests (nothing generated here is committed).

Usage (always with Debian's /usr/bin/python3, which has torch 1.13 / torchvision 0.14):
    /usr/bin/python3 scripts/make_reference.py --out DIR [--archs resnet18,...,efficientnet_b0]
        [--sizes 224,192] [--seed 0] [--tf-same] [--st-weights]

Archs: resnet18, resnet34, resnet50, mobilenet_v2 (default sizes 224,192), convnext_tiny and
efficientnet_b0 (default sizes 64,72: small, one a multiple of 32 and one not; --sizes overrides
the defaults of every arch). For every arch it writes
    DIR/<arch>.pth                         torchvision models.<arch>(weights=None) with randomised
                                           BatchNorm weight/bias/running stats, LayerNorm weight/bias
                                           and ConvNeXt layer scales (see below);
                                           torch.save(model.state_dict()) in the zip format
    DIR/<arch>_input_<size>.safetensors    "input": float32 [2,3,size,size], standard normal
    DIR/<arch>_expected_<size>.safetensors eval-mode "logits" [2,1000] and "features": the output of
                                           everything before the pooling (resnet: conv1..layer4;
                                           the others: model.features) [2,C,h,w]
    DIR/<arch>.safetensors                 (only with --st-weights) the same weights as the .pth, in
                                           safetensors (num_batches_tracked stored as I64)
For resnet18 also DIR/resnet18_train_reference.safetensors:
    "train_logits"                         model.train() forward of the 224 input (fresh weights)
    "bn1.running_mean", "bn1.running_var"  bn1's running stats after that one forward (momentum 0.1)
    "sgd_loss" [1]                         cross-entropy (mean) of a train-mode forward, targets [1, 3]
    "sgd.conv1.weight", "sgd.fc.weight", "sgd.fc.bias", "sgd.layer4.1.bn2.weight"
                                           the parameters after one plain SGD step (lr 0.1, momentum 0,
                                           weight decay 0) from the saved weights
    "adam_loss" [1], "adam.<name>"         F.cross_entropy with label_smoothing 0.1, and every trainable
                                           parameter after one torch.optim.AdamW step (fast.ai's Adam:
                                           lr 1e-3, betas (0.9, 0.99), eps 1e-5, weight decay 2 on
                                           weights of rank > 1 only), from the saved weights
    (a), (b) and (c) each start from a fresh copy of the saved state_dict.
For convnext_tiny and efficientnet_b0 also DIR/<arch>_train_reference.safetensors, from the saved weights
with every StochasticDepth's p set to 0 (deterministic) and model.train() (batch norm on batch
statistics; layer norm is the same in both modes), input <arch>_input_96.safetensors (written if 96 is
not among the sizes; 96 rather than 64 because EfficientNet's batch norms on batch statistics of 2x2
maps amplify float32 rounding: float32 differs from float64 by 5.7e-5 there, by 3.4e-5 at 96 px):
    "train_features"                       model.features(input) in training mode
    "upstream"                             a fixed standard-normal tensor of the features' shape
    "loss" [1]                             (train_features * upstream).sum() / batch
    "grad.<name>"                          d loss / d parameter for a few parameters along the body
    "<bn>.running_mean", "<bn>.running_var" (efficientnet_b0) running stats of two batch norms after
                                           that one forward (momentum 0.1, unbiased batch variance)
With --tf-same also DIR/mobilenet_v2_tfsame_expected_<size>.safetensors: the same weights and input,
    but the five stride-2 convs use TF "SAME" padding (explicit F.pad then conv with padding 0); see
    tf_same.py for the pad formula (even sizes: 0 before / 1 after; odd sizes: 1 / 1).
DIR/manifest.json lists the files (with sha256, keys and shapes), torch/torchvision versions and seed.

Randomised BatchNorm (global RNG after torch.manual_seed(seed) and the model's own init), data-
calibrated so that activations stay sane and input dependent: one eval forward of a randn [4,3,64,64]
batch ([4,3,128,128] for convnext_tiny and efficientnet_b0); for every BatchNorm2d, with mu / var its
input's channel stats, running_mean = mu + 0.1*sqrt(var)*U(-1,1), running_var = var*U(0.5,1.5),
weight ~ U(0.5,1.5), bias ~ U(-0.1,0.1). (Running stats drawn from fixed ranges such as running_var ~
U(0.5,1.5) regardless of the real activations made resnet34/50 logits explode to ~1e3 and a random
MobileNetV2's output input-independent to ~1e-7.)
Randomised LayerNorm (every nn.LayerNorm, LayerNorm2d included): weight ~ U(0.5,1.5), bias ~
U(-0.1,0.1). ConvNeXt layer scales (torchvision initialises them to 1e-6, which would hide every
residual branch from the test) are data-calibrated in the same calibration forward: before each CNBlock
runs, with s_in the std of its input and s_b that of its branch (block(input), unscaled),
layer_scale = U(0.25,0.75) * s_in / s_b per channel, so each branch contributes about half the
magnitude of the residual it is added to.
"""
import argparse
import hashlib
import json
import os
import sys
import time
import zlib

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision import models
from torchvision.models.convnext import CNBlock
from torchvision.ops import StochasticDepth

sys.dont_write_bytecode = True  # no scripts/__pycache__ in the work tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
import tf_same  # noqa: E402

ARCHS = ("resnet18", "resnet34", "resnet50", "mobilenet_v2", "convnext_tiny", "efficientnet_b0")
# input sizes when --sizes is not given: ResNets and MobileNetV2 at full size, as before; the newer ones
# small, so that their Java tests stay quick (64 is a multiple of 32, 72 is not: odd maps on the way)
DEFAULT_SIZES = {"resnet18": (224, 192), "resnet34": (224, 192), "resnet50": (224, 192),
                 "mobilenet_v2": (224, 192), "convnext_tiny": (64, 72), "efficientnet_b0": (64, 72)}
# the parameters whose gradients the training reference records, from the stem to the last stage
TRAIN_GRADIENTS = {
    "convnext_tiny": ("features.0.0.weight", "features.0.1.weight", "features.1.0.layer_scale",
                      "features.1.0.block.0.weight", "features.1.0.block.2.weight", "features.1.0.block.3.weight",
                      "features.4.0.weight", "features.5.8.block.5.weight", "features.6.1.weight",
                      "features.7.2.layer_scale", "features.7.2.block.2.bias"),
    "efficientnet_b0": ("features.0.0.weight", "features.0.1.weight", "features.1.0.block.1.fc1.weight",
                        "features.2.0.block.1.0.weight", "features.4.1.block.2.fc2.bias",
                        "features.6.3.block.3.1.weight", "features.8.0.weight", "features.8.1.bias"),
}
TRAIN_BATCH_NORMS = {"efficientnet_b0": ("features.0.1", "features.8.1")}
# side of the calibration batch: 64 as before; 128 for the archs tested at 64-72 px, whose last stages
# would otherwise be calibrated on 2x2 maps (4 images x 4 pixels per channel) and blow up at 72 px
CALIBRATION_SIZE = {"convnext_tiny": 128, "efficientnet_b0": 128}
# input size of the training references of the archs in TRAIN_GRADIENTS (see the module docstring)
TRAIN_SIZE = 96


def build(arch):
    return getattr(models, arch)(weights=None)


@torch.no_grad()
def randomise_bn(model, calib_batch=4, size=64):
    """Data-calibrated random BatchNorm (draws from the global RNG; call after torch.manual_seed).

    One eval-mode forward of a standard-normal calibration batch; just before each BatchNorm2d runs
    (forward pre-hook, so earlier BNs are already set), its input's per-channel mean mu and variance
    var are measured and the BN gets
        running_mean = mu + 0.1*sqrt(var)*U(-1,1),  running_var = max(var, 1e-4) * U(0.5,1.5),
        weight = U(0.5,1.5),  bias = U(-0.1,0.1).
    So eval-mode BN is non-trivial (neither identity nor equal to batch statistics) while every layer's
    output stays roughly unit-scale and input dependent, as in a trained network. (Plain U(0.5,1.5)
    running stats unrelated to the real activations make a random MobileNetV2's output almost
    constant: its logits then differed by ~1e-7 between two different inputs.)"""
    x = torch.randn(calib_batch, 3, size, size)

    def hook(bn, inputs):
        h = inputs[0]
        c = bn.num_features
        mu = h.mean(dim=(0, 2, 3))
        var = h.var(dim=(0, 2, 3), unbiased=False).clamp_min(1e-4)
        bn.running_mean.copy_(mu + 0.1 * var.sqrt() * (torch.rand(c) * 2 - 1))
        bn.running_var.copy_(var * (torch.rand(c) + 0.5))
        bn.weight.copy_(torch.rand(c) + 0.5)
        bn.bias.copy_(torch.rand(c) * 0.2 - 0.1)

    handles = [m.register_forward_pre_hook(hook) for m in model.modules()
               if isinstance(m, nn.BatchNorm2d)]
    model.eval()
    try:
        model(x)
    finally:
        for hd in handles:
            hd.remove()


@torch.no_grad()
def randomise_layer_norm(model, calib_batch=4, size=64):
    """Random LayerNorm affine parameters and data-calibrated ConvNeXt layer scales (see the module
    docstring); draws from the global RNG. A no-op for models without either."""
    norms = [m for m in model.modules() if isinstance(m, nn.LayerNorm)]
    for ln in norms:
        ln.weight.copy_(torch.rand(ln.weight.shape) + 0.5)
        ln.bias.copy_(torch.rand(ln.bias.shape) * 0.2 - 0.1)
    blocks = [m for m in model.modules() if isinstance(m, CNBlock)]
    if not blocks:
        return
    x = torch.randn(calib_batch, 3, size, size)

    def hook(blk, inputs):
        h = inputs[0]
        branch = blk.block(h)
        c = blk.layer_scale.shape[0]
        factor = (torch.rand(c) * 0.5 + 0.25) * h.std() / branch.std().clamp_min(1e-6)
        blk.layer_scale.copy_(factor.reshape(c, 1, 1))

    handles = [b.register_forward_pre_hook(hook) for b in blocks]
    model.eval()
    try:
        model(x)
    finally:
        for hd in handles:
            hd.remove()


def body_features(arch, model, x):
    """Everything before the global pooling."""
    if arch.startswith("resnet"):
        x = model.conv1(x)
        x = model.bn1(x)
        x = model.relu(x)
        x = model.maxpool(x)
        x = model.layer1(x)
        x = model.layer2(x)
        x = model.layer3(x)
        x = model.layer4(x)
        return x
    return model.features(x)


def head_from_features(arch, model, f):
    if arch.startswith("resnet"):
        return model.fc(torch.flatten(model.avgpool(f), 1))
    if arch == "convnext_tiny":
        return model.classifier(model.avgpool(f))  # LayerNorm2d, Flatten, Linear
    return model.classifier(torch.flatten(F.adaptive_avg_pool2d(f, (1, 1)), 1))


def input_for(seed, arch, size):
    g = torch.Generator().manual_seed(seed * 1_000_003 + zlib.crc32(f"{arch}_{size}".encode()))
    return torch.randn(2, 3, size, size, generator=g, dtype=torch.float32)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Writer:
    def __init__(self, out):
        self.out = out
        self.files = []

    def record(self, name, kind, tensors=None, note=""):
        path = os.path.join(self.out, name)
        entry = {"file": name, "kind": kind, "bytes": os.path.getsize(path), "sha256": sha256(path)}
        if tensors is not None:
            entry["tensors"] = {k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape)}
                                for k, v in sorted(tensors.items())}
        if note:
            entry["note"] = note
        self.files.append(entry)
        desc = ""
        if tensors is not None:
            if len(tensors) > 10:
                desc = f"{len(tensors)} tensors"
            else:
                desc = ", ".join(f"{k}{list(v.shape)}" for k, v in sorted(tensors.items()))
            absmax = max(float(v.abs().max()) for v in tensors.values() if v.is_floating_point())
            desc += f"; max|x|={absmax:.4g}"
        print(f"wrote {name:45s} {entry['bytes']:>11,d} B  {kind}  {desc}", flush=True)

    def safetensors(self, name, tensors, kind, metadata=None, note=""):
        safetensors_io.save(os.path.join(self.out, name), tensors, metadata)
        # read back: a cheap self-check of the writer
        back, _ = safetensors_io.load(os.path.join(self.out, name))
        for k, v in tensors.items():
            if not torch.equal(back[k], v.detach().cpu().contiguous()):
                raise AssertionError(f"{name}: {k} did not round-trip")
        self.record(name, kind, tensors, note)


# the one Adam step of resnet18_train_reference.safetensors (ResNetTrainingParityTest uses the same values)
# fast.ai's betas and eps; a weight decay far above fast.ai's 0.01, so that decay applied to the wrong
# parameters, or to none, changes weights by more than the test's tolerance
ADAM = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.99, "eps": 1e-5, "wd": 2.0, "label_smoothing": 0.1}


def train_reference(model_fn, state, x, w):
    # (a) one train-mode forward from the saved state
    m = model_fn()
    m.load_state_dict(state)
    m.train()
    with torch.no_grad():
        train_logits = m(x)
    t = {"train_logits": train_logits.clone(),
         "bn1.running_mean": m.bn1.running_mean.clone(),
         "bn1.running_var": m.bn1.running_var.clone()}
    # (b) one plain SGD step, again from the saved state
    m = model_fn()
    m.load_state_dict(state)
    m.train()
    opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.0, weight_decay=0.0)
    opt.zero_grad()
    loss = F.cross_entropy(m(x), torch.tensor([1, 3]))
    loss.backward()
    opt.step()
    t["sgd_loss"] = loss.detach().reshape(1).clone()
    for k in ("conv1.weight", "fc.weight", "fc.bias", "layer4.1.bn2.weight"):
        t["sgd." + k] = m.get_parameter(k).detach().clone()
    # (c) fast.ai's Adam (AdamW: decoupled weight decay, none on batch norms and biases) on the
    # label-smoothed loss, again from the saved state; every trainable parameter is recorded
    m = model_fn()
    m.load_state_dict(state)
    m.train()
    decay = [p for k, p in m.named_parameters() if p.ndim > 1]
    no_decay = [p for k, p in m.named_parameters() if p.ndim <= 1]  # batch-norm weights and biases, fc.bias
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": ADAM["wd"]},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=ADAM["lr"], betas=(ADAM["beta1"], ADAM["beta2"]), eps=ADAM["eps"])
    opt.zero_grad()
    loss = F.cross_entropy(m(x), torch.tensor([1, 3]), label_smoothing=ADAM["label_smoothing"])
    loss.backward()
    opt.step()
    t["adam_loss"] = loss.detach().reshape(1).clone()
    for k, p in m.named_parameters():
        t["adam." + k] = p.detach().clone()
    meta = {"targets": "[1, 3]", "loss": "F.cross_entropy (mean)",
            "adam": "torch.optim.AdamW " + json.dumps(ADAM) + ", weight decay only on parameters of rank > 1",
            "optimizer": "torch.optim.SGD lr=0.1 momentum=0 weight_decay=0",
            "input": "resnet18_input_224.safetensors", "mode": "model.train() (batch statistics)",
            "bn_momentum": "0.1 (torch default; running_var uses the unbiased batch variance)"}
    w.safetensors("resnet18_train_reference.safetensors", t, "train-reference", meta)


def train_reference_body(arch, state, x, seed, w):
    """The training-mode reference of a body with stochastic depth switched off (see the docstring)."""
    m = build(arch)
    m.load_state_dict(state)
    for mod in m.modules():
        if isinstance(mod, StochasticDepth):
            mod.p = 0.0
    m.train()
    f = m.features(x)
    g = torch.Generator().manual_seed(seed * 1_000_003 + zlib.crc32(f"{arch}_upstream".encode()))
    upstream = torch.randn(f.shape, generator=g, dtype=torch.float32)
    loss = (f * upstream).sum() / x.shape[0]
    loss.backward()
    t = {"train_features": f.detach().clone(), "upstream": upstream, "loss": loss.detach().reshape(1).clone()}
    for name in TRAIN_GRADIENTS[arch]:
        t["grad." + name] = m.get_parameter(name).grad.detach().clone()
    for bn in TRAIN_BATCH_NORMS.get(arch, ()):
        module = m.get_submodule(bn)
        t[bn + ".running_mean"] = module.running_mean.clone()
        t[bn + ".running_var"] = module.running_var.clone()
    meta = {"mode": "model.train(), every StochasticDepth p=0", "loss": "(features * upstream).sum() / batch",
            "input": f"{arch}_input_{x.shape[-1]}.safetensors",
            "bn_momentum": "0.1 (torch default; running_var uses the unbiased batch variance)"}
    w.safetensors(f"{arch}_train_reference.safetensors", t, "train-reference", meta)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--archs", default=",".join(ARCHS))
    ap.add_argument("--sizes", default=None,
                    help="input sizes for every arch (default: 224,192; 64,72 for convnext_tiny, efficientnet_b0)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tf-same", action="store_true",
                    help="also write mobilenet_v2_tfsame_expected_<size>.safetensors")
    ap.add_argument("--st-weights", action="store_true",
                    help="also write <arch>.safetensors (same weights as the .pth)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    archs = [a.strip() for a in args.archs.split(",") if a.strip()]
    for a in archs:
        if a not in ARCHS:
            ap.error(f"unknown arch {a}; known: {','.join(ARCHS)}")
    given = [int(s) for s in args.sizes.split(",") if s.strip()] if args.sizes else None
    if args.tf_same and "mobilenet_v2" not in archs:
        ap.error("--tf-same needs mobilenet_v2 in --archs")
    os.makedirs(args.out, exist_ok=True)
    w = Writer(args.out)
    t0 = time.time()
    sym_vs_tf = {}
    all_sizes = {}

    for arch in archs:
        torch.manual_seed(args.seed)
        model = build(arch)
        randomise_bn(model, size=CALIBRATION_SIZE.get(arch, 64))
        randomise_layer_norm(model, size=CALIBRATION_SIZE.get(arch, 64))
        model.eval()
        state = {k: v.clone() for k, v in model.state_dict().items()}
        torch.save(state, os.path.join(args.out, f"{arch}.pth"))
        w.record(f"{arch}.pth", "weights (torch.save state_dict, zip)")
        if args.st_weights:
            w.safetensors(f"{arch}.safetensors", state, "weights (safetensors)",
                          {"arch": arch, "seed": str(args.seed)})
        sizes = given or list(DEFAULT_SIZES[arch])
        all_sizes[arch] = sizes
        for size in sizes:
            x = input_for(args.seed, arch, size)
            w.safetensors(f"{arch}_input_{size}.safetensors", {"input": x}, "input",
                          {"arch": arch, "size": str(size), "layout": "NCHW float32, standard normal"})
            with torch.no_grad():
                feats = body_features(arch, model, x)
                logits = head_from_features(arch, model, feats)
                full = model(x)
            if not torch.allclose(full, logits, atol=1e-5, rtol=1e-5):
                raise AssertionError(f"{arch}: features->head differs from model.forward")
            w.safetensors(f"{arch}_expected_{size}.safetensors",
                          {"logits": full, "features": feats}, "expected (eval)",
                          {"arch": arch, "size": str(size), "mode": "eval",
                           "input": f"{arch}_input_{size}.safetensors",
                           "features": "output of everything before the global pooling"})
            if arch == "mobilenet_v2" and args.tf_same:
                tfm = tf_same.apply_tf_same(build(arch))
                tfm.load_state_dict(state)
                tfm.eval()
                with torch.no_grad():
                    tf_feats = tfm.features(x)
                    tf_logits = tfm(x)
                d_f = float((tf_feats - feats).abs().max())
                d_l = float((tf_logits - full).abs().max())
                sym_vs_tf[str(size)] = {"features_max_abs_diff": d_f, "logits_max_abs_diff": d_l}
                print(f"  mobilenet_v2 {size}: max|TF SAME - symmetric| features {d_f:.3g}, "
                      f"logits {d_l:.3g}")
                w.safetensors(f"mobilenet_v2_tfsame_expected_{size}.safetensors",
                              {"logits": tf_logits, "features": tf_feats}, "expected (eval, TF SAME)",
                              {"arch": arch, "size": str(size), "mode": "eval",
                               "input": f"mobilenet_v2_input_{size}.safetensors",
                               "padding": "TF SAME on " + ",".join(tf_same.MOBILENET_V2_STRIDE2_CONVS)
                                          + "; pad_total=max((ceil(n/s)-1)*s+k-n,0), before=total//2"})
        if arch == "resnet18":
            x224 = input_for(args.seed, arch, 224)
            if 224 not in sizes:
                w.safetensors("resnet18_input_224.safetensors", {"input": x224}, "input",
                              {"arch": arch, "size": "224", "layout": "NCHW float32, standard normal"})
            # reload what was written, so (a) and (b) start from exactly the saved state
            saved = torch.load(os.path.join(args.out, "resnet18.pth"), map_location="cpu")
            train_reference(lambda: build("resnet18"), saved, x224, w)
        if arch in TRAIN_GRADIENTS:
            x_train = input_for(args.seed, arch, TRAIN_SIZE)
            if TRAIN_SIZE not in sizes:
                w.safetensors(f"{arch}_input_{TRAIN_SIZE}.safetensors", {"input": x_train}, "input",
                              {"arch": arch, "size": str(TRAIN_SIZE), "layout": "NCHW float32, standard normal"})
            saved = torch.load(os.path.join(args.out, f"{arch}.pth"), map_location="cpu")
            train_reference_body(arch, saved, x_train, args.seed, w)

    manifest = {
        "generator": "scripts/make_reference.py",
        "torch": torch.__version__, "torchvision": torchvision.__version__,
        "seed": args.seed, "archs": archs, "sizes": all_sizes, "tf_same": args.tf_same,
        "bn_randomisation": "data-calibrated (see randomise_bn): running_mean = mu + 0.1*sigma*U(-1,1), "
                            "running_var = sigma^2*U(0.5,1.5) with mu, sigma^2 the BN input's channel "
                            "stats on a randn [4,3,64,64] batch; weight U(0.5,1.5), bias U(-0.1,0.1)",
        "ln_randomisation": "LayerNorm weight U(0.5,1.5), bias U(-0.1,0.1); ConvNeXt layer_scale = "
                            "U(0.25,0.75) * std(block input) / std(block branch) on the calibration batch",
        "input": "torch.Generator seeded with seed*1000003 + crc32('<arch>_<size>'), randn [2,3,s,s]",
        "mobilenet_v2_tfsame_vs_symmetric": sym_vs_tf,
        "files": w.files,
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"wrote manifest.json ({len(w.files)} files) in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
