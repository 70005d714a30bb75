"""Minimal safetensors reader/writer (no dependency on the `safetensors` package).

File layout (https://github.com/huggingface/safetensors, "Format"):
  bytes 0..7   little-endian u64 N = length of the JSON header
  bytes 8..8+N UTF-8 JSON: {"name": {"dtype": "F32", "shape": [...], "data_offsets": [b, e]}, ...,
               "__metadata__": {"key": "string value"}}; padded with spaces to a multiple of 8
  then         the data section: raw little-endian, C-order (row-major) tensor bytes; offsets are
               relative to the start of the data section.

Used by make_reference.py, check_mobilenet_shared.py and pytorch_finetune.py.
"""
import json
import struct

import numpy as np
import torch

# safetensors dtype tag -> (numpy little-endian dtype, torch dtype)
_DTYPES = {
    "F64": (np.dtype("<f8"), torch.float64),
    "F32": (np.dtype("<f4"), torch.float32),
    "F16": (np.dtype("<f2"), torch.float16),
    "I64": (np.dtype("<i8"), torch.int64),
    "I32": (np.dtype("<i4"), torch.int32),
    "I16": (np.dtype("<i2"), torch.int16),
    "I8": (np.dtype("i1"), torch.int8),
    "U8": (np.dtype("u1"), torch.uint8),
    "BOOL": (np.dtype("?"), torch.bool),
}
_TORCH_TO_TAG = {t: tag for tag, (_, t) in _DTYPES.items()}


def _as_numpy(value):
    """A C-contiguous little-endian numpy array and its safetensors dtype tag."""
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu().contiguous()
        if t.dtype not in _TORCH_TO_TAG:
            raise TypeError(f"unsupported torch dtype {t.dtype}")
        tag = _TORCH_TO_TAG[t.dtype]
        arr = t.numpy()
    else:
        arr = np.asarray(value)
        tag = None
        for k, (nd, _) in _DTYPES.items():
            if arr.dtype == nd or arr.dtype == nd.newbyteorder("="):
                tag = k
                break
        if tag is None:
            raise TypeError(f"unsupported numpy dtype {arr.dtype}")
    # (np.ascontiguousarray would turn a 0-d array into shape [1])
    arr = np.asarray(arr, dtype=_DTYPES[tag][0])
    if not arr.flags["C_CONTIGUOUS"]:
        arr = arr.copy(order="C")
    return arr, tag


def save(path, tensors, metadata=None):
    """Writes a dict name -> torch.Tensor / numpy array. Tensors are stored in sorted name order."""
    header = {}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        arr, tag = _as_numpy(tensors[name])
        raw = arr.tobytes(order="C")
        header[name] = {"dtype": tag, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((8 - len(hjson) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for raw in blobs:
            f.write(raw)


def read_header(path):
    """The parsed JSON header (including "__metadata__" when present) and the data section start."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n).decode("utf-8"))
    return header, 8 + n


def load(path, names=None):
    """Reads tensors (all, or the given names) as torch tensors; returns (dict, metadata dict)."""
    header, start = read_header(path)
    meta = header.pop("__metadata__", {}) or {}
    out = {}
    with open(path, "rb") as f:
        for name, info in header.items():
            if names is not None and name not in names:
                continue
            nd, _ = _DTYPES[info["dtype"]]
            b, e = info["data_offsets"]
            f.seek(start + b)
            raw = f.read(e - b)
            if len(raw) != e - b:
                raise IOError(f"{path}: truncated data for {name}")
            arr = np.frombuffer(raw, dtype=nd).reshape(info["shape"])
            out[name] = torch.from_numpy(arr.astype(nd.newbyteorder("="), copy=True))
    return out, meta
