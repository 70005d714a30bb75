"""TensorFlow "SAME" padding for torchvision convolutions, plus helpers for the shared MobileNetV2.

TF "SAME" padding, per spatial dimension with input size `n`, kernel `k`, stride `s`, dilation `d`:
    out         = ceil(n / s)
    pad_total   = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    pad_before  = pad_total // 2            (top / left)
    pad_after   = pad_total - pad_before    (bottom / right)
Examples for the 3x3 stride-2 convs of MobileNetV2:
    n even (224, 112, 192, ...): pad_total = 1  -> (before 0, after 1)  -- differs from torchvision's (1, 1)
    n odd  (225, 113, ...):      pad_total = 2  -> (before 1, after 1)  -- same as torchvision's padding=1
For stride-1 3x3 convs pad_total is always 2 -> (1, 1), identical to torchvision, so only the stride-2
convs need replacing. The pads are computed from the actual input size at every call, so any input
size works (the output size always equals ceil(n / s), like torchvision's padding=1 for k=3, s=2).

The shared weights (../shared/pretrained/mobilenet_v2/PROVENANCE.md) come from TFLite and were
trained with TF SAME padding on the five stride-2 convs:
    features.0.0, features.2.conv.1.0, features.4.conv.1.0, features.7.conv.1.0, features.14.conv.1.0
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

MOBILENET_V2_STRIDE2_CONVS = (
    "features.0.0",
    "features.2.conv.1.0",
    "features.4.conv.1.0",
    "features.7.conv.1.0",
    "features.14.conv.1.0",
)


def same_pads(n, k, s, d=1):
    """(pad_before, pad_after) of TF SAME padding for one spatial dimension."""
    out = math.ceil(n / s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


class TFSameConv2d(nn.Conv2d):
    """A Conv2d that pads like TensorFlow "SAME" (explicit F.pad, then a conv with padding 0).

    Parameter names and shapes are those of nn.Conv2d, so state_dicts stay interchangeable."""

    def forward(self, x):
        h, w = x.shape[-2:]
        top, bottom = same_pads(h, self.kernel_size[0], self.stride[0], self.dilation[0])
        left, right = same_pads(w, self.kernel_size[1], self.stride[1], self.dilation[1])
        if top or bottom or left or right:
            x = F.pad(x, (left, right, top, bottom))
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def _to_tf_same(conv):
    new = TFSameConv2d(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride,
                       padding=0, dilation=conv.dilation, groups=conv.groups,
                       bias=conv.bias is not None, padding_mode="zeros")
    new.weight = conv.weight  # share the Parameter objects: same values, same names
    if conv.bias is not None:
        new.bias = conv.bias
    new.train(conv.training)
    return new


def apply_tf_same(model, names=MOBILENET_V2_STRIDE2_CONVS):
    """Replaces the named Conv2d modules (in place) by TFSameConv2d; returns the model."""
    for name in names:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        conv = getattr(parent, child) if not child.isdigit() else parent[int(child)]
        if not isinstance(conv, nn.Conv2d):
            raise TypeError(f"{name} is {type(conv).__name__}, not Conv2d")
        if isinstance(conv, TFSameConv2d):
            continue
        new = _to_tf_same(conv)
        if child.isdigit():
            parent[int(child)] = new
        else:
            setattr(parent, child, new)
    return model


def load_state_dict_file(model, path):
    """Loads .safetensors (own reader) or .pth/.pt (torch.load) weights into model.

    Missing `num_batches_tracked` buffers are fine (the shared safetensors do not carry them);
    any other missing or unexpected key is an error."""
    if str(path).endswith(".safetensors"):
        import safetensors_io
        sd, _ = safetensors_io.load(path)
    else:
        sd = torch.load(path, map_location="cpu")
        if isinstance(sd, dict) and "state_dict" in sd and isinstance(sd["state_dict"], dict):
            sd = sd["state_dict"]
    res = model.load_state_dict(sd, strict=False)
    missing = [k for k in res.missing_keys if not k.endswith("num_batches_tracked")]
    if missing or res.unexpected_keys:
        raise KeyError(f"{path}: missing {missing[:8]}, unexpected {res.unexpected_keys[:8]}")
    return model


@torch.no_grad()
def recalibrate_bn(module, batches, eps_check=True):
    """Recalibrates folded (identity + bias) BatchNorms without changing the eval-mode function.

    Runs `module` in eval mode over `batches` (an iterable of normalised float NCHW tensors), records
    every BatchNorm2d input's per-channel mean mu and (biased) variance var, then sets
        running_mean = mu, running_var = var, weight = sqrt(var + eps) * w_old / sqrt(rv_old + eps),
        bias = mu * w_old / sqrt(rv_old + eps) + (bias_old - rm_old * w_old / sqrt(rv_old + eps))
    which for the shared weights (w=1, rm=0, rv=1-eps) is weight = sqrt(var+eps), bias = mu + b_old.
    Eval output is unchanged (up to rounding); train-mode batch statistics then roughly match.
    Returns the number of BatchNorm layers recalibrated."""
    bns = [m for m in module.modules() if isinstance(m, nn.BatchNorm2d)]
    sums = {}
    hooks = []

    def make_hook(bn):
        def hook(mod, inputs):
            # per-batch mean/variance, merged across batches in float64 (Chan et al.)
            # (two float32 passes with sum(): much faster on CPU than var_mean over dims (0, 2, 3))
            x = inputs[0].detach()
            n_b = x.numel() // x.shape[1]
            m = x.sum(dim=(0, 2, 3)) / n_b
            d = x - m.view(1, -1, 1, 1)
            mean_b = m.double() + d.sum(dim=(0, 2, 3)).double() / n_b
            m2_b = d.pow_(2).sum(dim=(0, 2, 3)).double()
            m2_b = m2_b - n_b * (mean_b - m.double()) ** 2
            if bn not in sums:
                sums[bn] = (mean_b, m2_b, n_b)
                return
            mean_a, m2_a, n_a = sums[bn]
            n = n_a + n_b
            delta = mean_b - mean_a
            sums[bn] = (mean_a + delta * (n_b / n), m2_a + m2_b + delta * delta * (n_a * n_b / n), n)
        return hook

    for bn in bns:
        hooks.append(bn.register_forward_pre_hook(make_hook(bn)))
    was_training = module.training
    module.eval()
    try:
        for xb in batches:
            module(xb)
    finally:
        for h in hooks:
            h.remove()
        module.train(was_training)
    for bn in bns:
        mu, m2, n = sums[bn]
        var = (m2 / n).clamp_min(0.0)
        eps = bn.eps
        # the old affine map y = a*x + c with a = w/sqrt(rv+eps), c = b - rm*a
        a = bn.weight.double() / torch.sqrt(bn.running_var.double() + eps)
        c = bn.bias.double() - bn.running_mean.double() * a
        # new: y = (x - mu)/sqrt(var+eps) * w' + b'; choose w' = a*sqrt(var+eps), b' = a*mu + c
        bn.running_mean.copy_(mu.float())
        bn.running_var.copy_(var.float())
        bn.weight.copy_((a * torch.sqrt(var + eps)).float())
        bn.bias.copy_((a * mu + c).float())
    return len(bns)
