#!/usr/bin/python3
"""Plain PyTorch re-implementation of fast.ai's `vision_learner(dls, arch, metrics=error_rate).fine_tune(3)`.

The speed/accuracy yardstick for Tuna (no fastai package; torch + torchvision + PIL only). It follows
DESIGN.md section 2:

  data      image files under --data/<class>/ (vocabulary = sorted folder names), paths sorted, split
            like fastai's RandomSplitter(0.2, seed): torch.manual_seed(seed); p = torch.randperm(n);
            valid = p[:int(0.2 n)], train = the rest. Resize(size, squish): PIL bilinear resize of the
            whole RGB image to size x size. Every image is decoded and resized ONCE up front into a
            uint8 [N,3,size,size] tensor ("presizing"), timed separately. No augmentation.
            Normalisation: ImageNet mean/std (resnets) or x/127.5 - 1 (the shared MobileNetV2).
            Train loader shuffles each epoch and drops the last partial batch; validation does neither.
  model     body = resnet children[:-2] / mobilenet_v2.features; fast.ai head:
            AdaptiveConcatPool2d (max, avg) -> Flatten -> BatchNorm1d(2nf) -> Dropout(0.25)
            -> Linear(2nf, 512, bias=False) -> ReLU -> BatchNorm1d(512) -> Dropout(0.5)
            -> Linear(512, classes, bias=False); kaiming_normal_ linears, head BN weight 1, bias 1e-3.
            Groups: resnet [stem+layer1+layer2], [layer3+layer4], [head];
                    mobilenet_v2 [features 0-9], [features 10-18], [head].
            Shared MobileNetV2 weights (../shared/pretrained/mobilenet_v2): TF "SAME" padding on the five
            stride-2 convs, and the folded (identity + bias) BatchNorms are recalibrated on training
            images without changing the eval-mode function (see tf_same.py).
  optimiser fastai Adam: decoupled weight decay 0.01 (p *= 1 - lr*wd, before the step; not for BatchNorm
            parameters or biases), grad_avg = mom*grad_avg + (1-mom)*g, sqr_avg = 0.99*sqr_avg +
            0.01*g^2, p -= lr/(1-mom^step) * grad_avg / (sqrt(sqr_avg/(1-0.99^step)) + 1e-5), per-
            parameter step count; mom (beta1) comes from the schedule; state cleared at freeze/unfreeze.
            freeze: only the last group trains, plus every BatchNorm's weight/bias (train_bn); all
            BatchNorms stay in train mode.
  schedule  fit_one_cycle(n, lr_max, div=25, div_final=1e5, pct_start=0.25): cosine lr_max/div ->
            lr_max over pct_start of the iterations, cosine down to lr_max/div_final; momentum
            cosine 0.95 -> 0.85 -> 0.95 on the same split. Position = iteration / total iterations.
            fine_tune(epochs, base_lr=2e-3, freeze_epochs=1, lr_mult=100, pct_start=0.3, div=5):
              freeze(); fit_one_cycle(1, slice(base_lr), pct_start=0.99)   lrs [base/10, base/10, base]
              base_lr /= 2; unfreeze(); fit_one_cycle(epochs, slice(base_lr/100, base_lr),
                                                       pct_start=0.3, div=5) lrs geometric [1e-5,1e-4,1e-3]
  reporting train_loss = exponentially smoothed batch loss (beta 0.98, debiased, reset per fit);
            valid_loss / error_rate = batch-size-weighted means. Loss: cross-entropy (mean).

Example:
  LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1 \\
  /usr/bin/python3 scripts/pytorch_finetune.py --arch mobilenet_v2 \\
      --weights ../shared/pretrained/mobilenet_v2/mobilenet_v2_1.0_224_quant.tv.safetensors \\
      --data ../shared/datasets/flowers --test ../shared/datasets/flowers-test --json runs/pt.json
"""
import argparse
import json
import math
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from PIL import Image
from torchvision import models

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no scripts/__pycache__ in the work tree
sys.path.insert(0, HERE)
import tf_same  # noqa: E402

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
try:
    BILINEAR = Image.Resampling.BILINEAR
except AttributeError:  # Pillow < 9.1
    BILINEAR = Image.BILINEAR


# ----------------------------------------------------------------------------------------- data
def scan(root, classes=None, limit_per_class=None):
    """(sorted relative paths, labels, vocabulary). Vocabulary = sorted class folder names."""
    if classes is None:
        classes = sorted(d for d in os.listdir(root)
                         if os.path.isdir(os.path.join(root, d)) and not d.startswith("."))
    index = {c: i for i, c in enumerate(classes)}
    items = []
    for c in sorted(os.listdir(root)):
        d = os.path.join(root, c)
        if not os.path.isdir(d) or c.startswith("."):
            continue
        if c not in index:
            raise ValueError(f"{d}: class {c!r} is not in the vocabulary {classes}")
        files = []
        for dirpath, dirnames, filenames in os.walk(d):
            dirnames[:] = [x for x in dirnames if not x.startswith(".")]
            for fn in filenames:
                if fn.lower().endswith(IMAGE_EXTS) and not fn.startswith("."):
                    files.append(os.path.relpath(os.path.join(dirpath, fn), root))
        files.sort()
        if limit_per_class:
            files = files[:limit_per_class]
        items += [(f, index[c]) for f in files]
    items.sort(key=lambda t: t[0])
    return [f for f, _ in items], torch.tensor([y for _, y in items], dtype=torch.long), classes


def random_split(n, valid_pct, seed):
    """fastai RandomSplitter: torch.manual_seed(seed); randperm; first int(pct*n) are validation."""
    torch.manual_seed(seed)
    perm = torch.randperm(n)
    cut = int(valid_pct * n)
    return perm[cut:], perm[:cut]


def load_squish(path, size):
    with Image.open(path) as im:
        im = im.convert("RGB")
        im = im.resize((size, size), BILINEAR)
        a = np.asarray(im, dtype=np.uint8)
    return torch.from_numpy(a.transpose(2, 0, 1).copy())


def presize(root, files, size, threads):
    """Decodes and squish-resizes every file once into a uint8 [N,3,size,size] tensor."""
    out = torch.empty((len(files), 3, size, size), dtype=torch.uint8)

    def work(i):
        out[i] = load_squish(os.path.join(root, files[i]), size)

    with ThreadPoolExecutor(max_workers=max(1, threads)) as ex:
        list(ex.map(work, range(len(files))))
    return out


class Normalizer:
    def __init__(self, kind):
        self.kind = kind
        if kind == "imagenet":
            self.mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1) * 255.0
            self.std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) * 255.0
        elif kind == "tf":  # x/127.5 - 1  ==  (x/255 - 0.5)/0.5
            self.mean = torch.full((1, 3, 1, 1), 127.5)
            self.std = torch.full((1, 3, 1, 1), 127.5)
        else:
            raise ValueError(kind)

    def __call__(self, u8):
        return (u8.float() - self.mean) / self.std


def batches(images, labels, bs, norm, shuffle=False, drop_last=False, generator=None):
    n = len(images)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    end = (n // bs) * bs if drop_last else n
    for s in range(0, end, bs):
        idx = order[s:s + bs]
        yield norm(images[idx]), labels[idx]


# ---------------------------------------------------------------------------------------- model
class AdaptiveConcatPool2d(nn.Module):
    def forward(self, x):
        return torch.cat([F.adaptive_max_pool2d(x, 1), F.adaptive_avg_pool2d(x, 1)], 1)


def fastai_head(nf, n_classes):
    head = nn.Sequential(
        AdaptiveConcatPool2d(), nn.Flatten(),
        nn.BatchNorm1d(2 * nf), nn.Dropout(0.25), nn.Linear(2 * nf, 512, bias=False), nn.ReLU(inplace=True),
        nn.BatchNorm1d(512), nn.Dropout(0.5), nn.Linear(512, n_classes, bias=False))
    with torch.no_grad():
        for m in head.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.BatchNorm1d):
                m.weight.fill_(1.0)
                m.bias.fill_(1e-3)
    return head


def bn_is_folded(model):
    """True when every BatchNorm is the identity (weight 1, mean 0): the TFLite-derived weights."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    return bool(bns) and all(torch.all(m.weight == 1) and torch.all(m.running_mean == 0) for m in bns)


def build_body(args, log):
    arch = args.arch
    tv = getattr(models, arch)(weights=None)
    info = {"weights": args.weights, "tf_same": False, "folded_bn": False}
    if args.weights:
        tf_same.load_state_dict_file(tv, args.weights)
        log(f"loaded weights {args.weights}")
    else:
        log("WARNING: no --weights: the body is randomly initialised")
    if arch.startswith("resnet"):
        body = nn.Sequential(*list(tv.children())[:-2])
        nf = tv.fc.in_features
        splits = lambda b: [list(b[:6].parameters()), list(b[6:].parameters())]  # noqa: E731
    elif arch == "mobilenet_v2":
        info["folded_bn"] = bool(args.weights) and bn_is_folded(tv)
        use_tf = args.tf_same == "on" or (args.tf_same == "auto" and info["folded_bn"])
        if use_tf:
            tf_same.apply_tf_same(tv)
            info["tf_same"] = True
            log("TF SAME padding on " + ", ".join(tf_same.MOBILENET_V2_STRIDE2_CONVS))
        body = tv.features
        nf = tv.last_channel
        splits = lambda b: [list(b[:10].parameters()), list(b[10:].parameters())]  # noqa: E731
    else:
        raise ValueError(arch)
    return body, nf, splits, info


def norm_params(module):
    return [p for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
            for p in m.parameters(recurse=False)]


def bias_params(module):
    return [m.bias for m in module.modules()
            if isinstance(getattr(m, "bias", None), nn.Parameter)]


# ------------------------------------------------------------------------------------ optimiser
class FastaiAdam:
    """fastai's Adam (opt_func default) with per-group hyper-parameters and freeze_to/clear_state."""

    def __init__(self, groups, no_wd, force_train, wd=0.01, sqr_mom=0.99, eps=1e-5):
        self.groups = [{"params": ps, "lr": 1e-3, "mom": 0.9, "sqr_mom": sqr_mom, "eps": eps, "wd": wd}
                       for ps in groups]
        self.no_wd = {id(p) for p in no_wd}
        self.force_train = {id(p) for p in force_train}
        self.state = {}

    def set_hyper(self, key, values):
        if not isinstance(values, (list, tuple, np.ndarray)):
            values = [values] * len(self.groups)
        for g, v in zip(self.groups, values):
            g[key] = float(v)

    def clear_state(self):
        self.state = {}

    def freeze_to(self, n):
        n = n if n >= 0 else len(self.groups) + n
        for i, g in enumerate(self.groups):
            for p in g["params"]:
                p.requires_grad_(i >= n or id(p) in self.force_train)
        self.clear_state()

    def zero_grad(self):
        for g in self.groups:
            for p in g["params"]:
                p.grad = None

    @torch.no_grad()
    def step(self):
        for g in self.groups:
            lr, mom, sqr_mom, eps, wd = g["lr"], g["mom"], g["sqr_mom"], g["eps"], g["wd"]
            for p in g["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                if wd != 0 and id(p) not in self.no_wd:
                    p.mul_(1 - lr * wd)
                st = self.state.get(p)
                if st is None:
                    st = self.state[p] = {"grad_avg": torch.zeros_like(p), "sqr_avg": torch.zeros_like(p),
                                          "step": 0}
                st["grad_avg"].mul_(mom).add_(grad, alpha=1 - mom)
                st["sqr_avg"].mul_(sqr_mom).addcmul_(grad, grad, value=1 - sqr_mom)
                st["step"] += 1
                debias1 = 1 - mom ** st["step"]
                debias2 = 1 - sqr_mom ** st["step"]
                denom = (st["sqr_avg"] / debias2).sqrt_().add_(eps)
                p.addcdiv_(st["grad_avg"], denom, value=-lr / debias1)


def sched_cos(start, end, pos):
    return start + (1 + math.cos(math.pi * (1 - pos))) * (end - start) / 2


def combined_cos(pct, start, middle, end):
    """fastai combined_cos: cosine start->middle on [0, pct), middle->end on [pct, 1]."""
    start, middle, end = (np.asarray(v, dtype=np.float64) for v in (start, middle, end))

    def f(pos):
        if pos < pct:
            return sched_cos(start, middle, pos / pct)
        return sched_cos(middle, end, (pos - pct) / (1 - pct))
    return f


def lr_range(lr, n):
    """fastai set_hyper for a slice: slice(stop) -> [stop/10]*(n-1)+[stop]; slice(a, b) -> even_mults."""
    if isinstance(lr, slice):
        if lr.start:
            step = (lr.stop / lr.start) ** (1 / (n - 1))
            return np.array([lr.start * step ** i for i in range(n)])
        return np.array([lr.stop / 10] * (n - 1) + [lr.stop])
    return np.array([lr] * n)


# ------------------------------------------------------------------------------------- learner
def fmt_time(s):
    s = int(round(s))
    return f"{s // 60:02d}:{s % 60:02d}"


class Learner:
    def __init__(self, model, opt, data, args, log):
        self.model, self.opt, self.args, self.log = model, opt, args, log
        self.train_x, self.train_y, self.valid_x, self.valid_y, self.norm = data
        self.gen = torch.Generator().manual_seed(args.seed)
        self.rows = []

    def validate(self):
        self.model.eval()
        tot_loss, tot_err, n = 0.0, 0.0, 0
        with torch.no_grad():
            for xb, yb in batches(self.valid_x, self.valid_y, self.args.bs, self.norm):
                out = self.model(xb)
                bs = len(yb)
                tot_loss += F.cross_entropy(out, yb).item() * bs
                tot_err += (out.argmax(1) != yb).float().mean().item() * bs
                n += bs
        return tot_loss / max(n, 1), tot_err / max(n, 1)

    def fit_one_cycle(self, n_epoch, lr_max, phase, div=25.0, div_final=1e5, pct_start=0.25,
                      moms=(0.95, 0.85, 0.95)):
        lr_max = lr_range(lr_max, len(self.opt.groups))
        lr_sched = combined_cos(pct_start, lr_max / div, lr_max, lr_max / div_final)
        mom_sched = combined_cos(pct_start, *moms)
        n_iter = len(self.train_x) // self.args.bs
        total = n_epoch * n_iter
        if n_iter == 0:
            raise ValueError(f"training set ({len(self.train_x)}) smaller than one batch ({self.args.bs})")
        trainable = sum(p.numel() for g in self.opt.groups for p in g["params"] if p.requires_grad)
        self.log(f"fit_one_cycle({n_epoch}) [{phase}]: lr_max {['%.3g' % v for v in lr_max]}, div {div}, "
                 f"pct_start {pct_start}, {n_iter} batches/epoch, {trainable:,} trainable parameters")
        print(f"{'epoch':<10}{'train_loss':<12}{'valid_loss':<12}{'error_rate':<12}{'time':<8}", flush=True)
        smooth, count, it = 0.0, 0, 0
        for epoch in range(n_epoch):
            t0 = time.perf_counter()
            self.model.train()
            for xb, yb in batches(self.train_x, self.train_y, self.args.bs, self.norm,
                                  shuffle=True, drop_last=True, generator=self.gen):
                pos = it / total
                self.opt.set_hyper("lr", lr_sched(pos))
                self.opt.set_hyper("mom", float(mom_sched(pos)))
                loss = F.cross_entropy(self.model(xb), yb)
                loss.backward()
                self.opt.step()
                self.opt.zero_grad()
                count += 1
                smooth = smooth * 0.98 + loss.item() * 0.02
                it += 1
            t1 = time.perf_counter()
            train_loss = smooth / (1 - 0.98 ** count)
            valid_loss, err = self.validate()
            t2 = time.perf_counter()
            row = {"phase": phase, "epoch": epoch, "train_loss": train_loss, "valid_loss": valid_loss,
                   "error_rate": err, "train_s": t1 - t0, "valid_s": t2 - t1, "time_s": t2 - t0}
            self.rows.append(row)
            print(f"{epoch:<10d}{train_loss:<12.6f}{valid_loss:<12.6f}{err:<12.6f}{fmt_time(t2 - t0):<8}",
                  flush=True)

    def fine_tune(self, epochs, base_lr=2e-3, freeze_epochs=1, lr_mult=100, pct_start=0.3, div=5.0):
        self.opt.freeze_to(-1)
        self.fit_one_cycle(freeze_epochs, slice(base_lr), "frozen", pct_start=0.99)
        base_lr /= 2
        self.opt.freeze_to(0)
        self.fit_one_cycle(epochs, slice(base_lr / lr_mult, base_lr), "unfrozen", pct_start=pct_start,
                           div=div)


# ---------------------------------------------------------------------------------------- main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(HERE, "..", "..", "shared", "datasets", "flowers"))
    ap.add_argument("--test", default=None, help="held-out folder (same class folders); optional")
    ap.add_argument("--arch", default="mobilenet_v2",
                    choices=["mobilenet_v2", "resnet18", "resnet34", "resnet50"])
    ap.add_argument("--weights", default=None, help=".safetensors (own reader) or .pth state_dict")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--size", type=int, default=192)
    ap.add_argument("--bs", type=int, default=64)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--valid-pct", type=float, default=0.2)
    ap.add_argument("--base-lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--limit-per-class", type=int, default=None)
    ap.add_argument("--norm", choices=["auto", "imagenet", "tf"], default="auto",
                    help="auto: tf (x/127.5-1) for mobilenet_v2, imagenet mean/std for resnets")
    ap.add_argument("--tf-same", choices=["auto", "on", "off"], default="auto",
                    help="auto: on for mobilenet_v2 with folded-BN (TFLite-derived) weights")
    ap.add_argument("--recalib", type=int, default=256,
                    help="images for the BN recalibration of folded-BN weights (0: skip)")
    ap.add_argument("--json", default=None, help="write timings and results here")
    args = ap.parse_args(argv)

    t_start = time.perf_counter()
    torch.set_num_threads(max(1, args.threads))
    load_start = os.getloadavg()

    def log(msg):
        print(f"[{time.perf_counter() - t_start:7.1f}s] {msg}", flush=True)

    log(f"torch {torch.__version__}, torchvision {torchvision.__version__}, threads "
        f"{torch.get_num_threads()}, cpus {os.cpu_count()}, loadavg {load_start[0]:.2f}, "
        f"LD_PRELOAD={os.environ.get('LD_PRELOAD', '')}")
    norm_kind = args.norm if args.norm != "auto" else ("tf" if args.arch == "mobilenet_v2" else "imagenet")
    norm = Normalizer(norm_kind)

    # data: scan, split, presize (timed)
    files, labels, classes = scan(args.data, limit_per_class=args.limit_per_class)
    train_idx, valid_idx = random_split(len(files), args.valid_pct, args.seed)
    log(f"{len(files)} images, classes {classes}; train {len(train_idx)}, valid {len(valid_idx)} "
        f"(seed {args.seed})")
    t0 = time.perf_counter()
    images = presize(args.data, files, args.size, args.threads)
    t_decode = time.perf_counter() - t0
    log(f"decoded + resized {len(files)} images to {args.size}x{args.size} (squish, PIL bilinear) "
        f"in {t_decode:.1f}s")
    train_x, train_y = images[train_idx], labels[train_idx]
    valid_x, valid_y = images[valid_idx], labels[valid_idx]
    del images

    # model
    torch.manual_seed(args.seed)
    body, nf, splits, info = build_body(args, log)
    t_recal = 0.0
    if info["folded_bn"] and args.recalib > 0:
        n_cal = min(args.recalib, len(train_x))
        calib = [norm(train_x[s:min(s + args.bs, n_cal)]) for s in range(0, n_cal, args.bs)]
        body.eval()
        probe = calib[0][:8]
        with torch.no_grad():
            before = body(probe)
        t0 = time.perf_counter()
        n_bn = tf_same.recalibrate_bn(body, calib)
        t_recal = time.perf_counter() - t0
        with torch.no_grad():
            after = body(probe)
        info["recalib_images"] = sum(len(c) for c in calib)
        info["recalib_max_abs_change"] = (after - before).abs().max().item()
        log(f"recalibrated {n_bn} BatchNorms on {info['recalib_images']} training images in "
            f"{t_recal:.1f}s; eval output change max|d| = {info['recalib_max_abs_change']:.2e} "
            f"(output max {before.abs().max().item():.2f})")
    head = fastai_head(nf, len(classes))
    model = nn.Sequential(body, head)
    g0, g1 = splits(body)
    groups = [g0, g1, list(head.parameters())]
    assert sum(len(g) for g in groups) == len(list(model.parameters()))
    no_wd = norm_params(model) + bias_params(model)
    opt = FastaiAdam(groups, no_wd=no_wd, force_train=norm_params(model))
    log(f"model {args.arch}: body nf={nf}, params {sum(p.numel() for p in model.parameters()):,}, "
        f"groups {[sum(p.numel() for p in g) for g in groups]}, norm {norm_kind}")

    learn = Learner(model, opt, (train_x, train_y, valid_x, valid_y, norm), args, log)
    learn.fine_tune(args.epochs, base_lr=args.base_lr)
    frozen = [r for r in learn.rows if r["phase"] == "frozen"]
    unfrozen = [r for r in learn.rows if r["phase"] == "unfrozen"]

    # test
    result = {}
    t_test_decode = t_test = 0.0
    if args.test:
        tfiles, tlabels, _ = scan(args.test, classes=classes)
        t0 = time.perf_counter()
        test_x = presize(args.test, tfiles, args.size, args.threads)
        t_test_decode = time.perf_counter() - t0
        t0 = time.perf_counter()
        model.eval()
        preds = []
        with torch.no_grad():
            for xb, _ in batches(test_x, tlabels, args.bs, norm):
                preds.append(model(xb).softmax(1).argmax(1))
        preds = torch.cat(preds)
        t_test = time.perf_counter() - t0
        correct = int((preds == tlabels).sum())
        acc = correct / len(tlabels)
        per_class = {c: f"{int(((preds == tlabels) & (tlabels == i)).sum())}/{int((tlabels == i).sum())}"
                     for i, c in enumerate(classes)}
        log(f"test: decoded {len(tfiles)} in {t_test_decode:.1f}s, inference {t_test:.1f}s; per class "
            f"{per_class}")
        print(f"Test accuracy: {100 * acc:.2f}% ({correct}/{len(tlabels)})", flush=True)
        result.update(test_accuracy=acc, test_correct=correct, test_n=len(tlabels), test_per_class=per_class)
    total = time.perf_counter() - t_start
    load_end = os.getloadavg()
    log(f"total wall {total:.1f}s; loadavg at start {load_start[0]:.2f}, at end "
        f"{load_end[0]:.2f}/{load_end[1]:.2f}/{load_end[2]:.2f}")

    if args.json:
        out = {
            "tool": "scripts/pytorch_finetune.py", "torch": torch.__version__,
            "torchvision": torchvision.__version__, "arch": args.arch, "size": args.size, "bs": args.bs,
            "epochs": args.epochs, "seed": args.seed, "threads": torch.get_num_threads(),
            "limit_per_class": args.limit_per_class, "norm": norm_kind, **info,
            "ld_preload": os.environ.get("LD_PRELOAD", ""),
            "n_train": len(train_x), "n_valid": len(valid_x), "classes": classes,
            "timings_s": {
                "decode_preprocess": t_decode,
                "bn_recalibration": t_recal,
                "frozen_epoch": sum(r["time_s"] for r in frozen),
                "frozen_train": sum(r["train_s"] for r in frozen),
                "unfrozen_epochs": [r["time_s"] for r in unfrozen],
                "unfrozen_train": [r["train_s"] for r in unfrozen],
                "unfrozen_total": sum(r["time_s"] for r in unfrozen),
                "validation": [r["valid_s"] for r in learn.rows],
                "test_decode": t_test_decode,
                "test": t_test,
                "total_wall": total,
            },
            "epochs_table": learn.rows,
            "final_valid_error": learn.rows[-1]["error_rate"],
            "final_valid_loss": learn.rows[-1]["valid_loss"],
            "loadavg_start": load_start, "loadavg_end": load_end,
            **result,
        }
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
