"""The .safetensors format, written and read without the safetensors package (not installed here).

Layout: 8-byte little-endian header length N, N bytes of JSON header
{"name": {"dtype": "F16", "shape": [...], "data_offsets": [begin, end]}, ..., "__metadata__": {...}},
then the raw little-endian tensor bytes, offsets relative to the end of the header. The header is
padded with spaces to a multiple of 8 bytes, as the reference writer does, so the data is aligned.
"""

import json
import struct

import numpy as np

DTYPES = {"F16": np.float16, "F32": np.float32, "I64": np.int64}
NAMES = {np.dtype(v): k for k, v in DTYPES.items()}


def encode(tensors, metadata=None):
    """bytes of a safetensors file for {name: numpy array}, in the given order."""
    header, chunks, offset = {}, [], 0
    for name, array in tensors.items():
        array = np.ascontiguousarray(array)
        if array.dtype not in NAMES:
            raise ValueError(f"{name}: unsupported dtype {array.dtype}")
        raw = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": NAMES[array.dtype], "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def decode(blob):
    """({name: numpy array}, metadata) from safetensors bytes, checking that offsets tile the data."""
    if len(blob) < 8:
        raise ValueError("shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise ValueError(f"header length {n} runs past the end of the file ({len(blob)} bytes)")
    header = json.loads(blob[8 : 8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data = blob[8 + n :]
    tensors, expected = {}, 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, end = info["data_offsets"]
        dtype = np.dtype(DTYPES[info["dtype"]]).newbyteorder("<")
        if begin != expected or end > len(data) or end - begin != int(np.prod(info["shape"], dtype=np.int64)) * dtype.itemsize:
            raise ValueError(f"{name}: data_offsets {info['data_offsets']} do not match its shape or position")
        tensors[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(info["shape"]).astype(dtype.newbyteorder("="))
        expected = end
    if expected != len(data):
        raise ValueError(f"{len(data) - expected} trailing bytes after the last tensor")
    return {name: tensors[name] for name in header}, metadata


def save(path, tensors, metadata=None):
    with open(path, "wb") as f:
        f.write(encode(tensors, metadata))


def load(path):
    with open(path, "rb") as f:
        return decode(f.read())
