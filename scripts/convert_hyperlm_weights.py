#!/usr/bin/env python3
"""Convert the Hyper Label Model's pre-trained weights into the file labelgen bundles.

The weights ship in the PyPI package `hyperlm` 0.0.5 (Renzhi Wu et al., "Learning Hyper Label
Model for Programmatic Weak Supervision", ICLR 2023; MIT licence) as `hyperlm/checkpoint.pt`, a
PyTorch checkpoint: a zip holding a pickle and one raw little-endian buffer per tensor. This
script reads it without PyTorch (a restricted unpickler that rebuilds each tensor from its
buffer with NumPy) and writes every tensor of `model_state_dict` (4,641 float32 numbers) as
JSON, with where it came from, to `src/model/hyper/weights.json`.

Run once, from the repository root (needs only Python 3 with NumPy, and pip to fetch the
wheel; nothing is installed):

    python3 -m pip download --no-deps hyperlm==0.0.5 -d /tmp/hyperlm
    python3 scripts/convert_hyperlm_weights.py /tmp/hyperlm/hyperlm-0.0.5-py3-none-any.whl

The output is deterministic: running it again on the same wheel writes the same bytes.
"""
import collections
import hashlib
import io
import json
import pickle
import sys
import zipfile

import numpy as np

OUT = "src/model/hyper/weights.json"
MEMBER = "hyperlm/checkpoint.pt"
DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "LongStorage": np.int64,
          "IntStorage": np.int32, "HalfStorage": np.float16}


class _Storage:
    """A tensor buffer named by the checkpoint's pickle (read from the zip on demand)."""

    def __init__(self, key, dtype):
        self.key, self.dtype = key, dtype


def read_state_dict(checkpoint_bytes):
    """`model_state_dict` of a PyTorch zip checkpoint as {name: float32 array}, without torch."""
    archive = zipfile.ZipFile(io.BytesIO(checkpoint_bytes))
    prefix = archive.namelist()[0].split("/")[0]

    def rebuild(storage, offset, size, stride, *_):
        raw = np.frombuffer(archive.read(f"{prefix}/data/{storage.key}"), dtype=storage.dtype)
        strides = [step * raw.itemsize for step in stride]
        return np.lib.stride_tricks.as_strided(raw[offset:], shape=size, strides=strides).copy()

    class Unpickler(pickle.Unpickler):
        # Only what a state dict holds is allowed: anything else is refused, not executed.
        def find_class(self, module, name):
            if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                return rebuild
            if module == "torch" and name in DTYPES:
                return DTYPES[name]
            if (module, name) == ("collections", "OrderedDict"):
                return collections.OrderedDict
            # The training metadata beside the weights (loss, counters) holds NumPy scalars.
            if (module, name) in (("numpy.core.multiarray", "scalar"), ("numpy", "dtype"),
                                  ("_codecs", "encode")):
                return super().find_class(module, name)
            raise pickle.UnpicklingError(f"unexpected {module}.{name} in the checkpoint")

        def persistent_load(self, pid):
            _, dtype, key, _location, _numel = pid
            return _Storage(key, dtype)

    checkpoint = Unpickler(archive.open(f"{prefix}/data.pkl")).load()
    return {name: np.asarray(value, dtype=np.float32) for name, value in checkpoint["model_state_dict"].items()}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    wheel = sys.argv[1]
    with open(wheel, "rb") as handle:
        wheel_bytes = handle.read()
    with zipfile.ZipFile(io.BytesIO(wheel_bytes)) as archive:
        checkpoint = archive.read(MEMBER)
        licence = archive.read("hyperlm-0.0.5.dist-info/LICENSE").decode()
    state = read_state_dict(checkpoint)
    document = {
        "source": "PyPI package hyperlm 0.0.5, file hyperlm/checkpoint.pt (model_state_dict)",
        "paper": "Renzhi Wu, Shen-En Chen, Jieyu Zhang, Xu Chu. Learning Hyper Label Model for "
                 "Programmatic Weak Supervision. ICLR 2023",
        "licence": "MIT (the package's LICENSE, reproduced in LICENSE beside this file)",
        "wheel_sha256": hashlib.sha256(wheel_bytes).hexdigest(),
        "checkpoint_sha256": hashlib.sha256(checkpoint).hexdigest(),
        "parameters": int(sum(value.size for value in state.values())),
        # float32 values written as the shortest decimal that reads back to the same float32.
        "tensors": {name: {"shape": list(value.shape),
                           "values": [float(np.format_float_positional(x, unique=True)) for x in value.ravel()]}
                    for name, value in state.items()},
    }
    # One line per tensor: readable, and a diff shows which tensor changed.
    tensors = document.pop("tensors")
    lines = [f" {json.dumps(key)}: {json.dumps(value)}," for key, value in document.items()]
    lines.append(' "tensors": {')
    lines += [f"  {json.dumps(name)}: {json.dumps(tensor, separators=(',', ':'))}," for name, tensor in tensors.items()]
    lines[-1] = lines[-1].rstrip(",")
    with open(OUT, "w") as handle:
        handle.write("{\n" + "\n".join(lines) + "\n }\n}\n")
    with open(OUT.replace("weights.json", "LICENSE"), "w") as handle:
        handle.write("The weights in weights.json are the Hyper Label Model's, converted from the PyPI\n"
                     "package hyperlm 0.0.5 by scripts/convert_hyperlm_weights.py. Its licence:\n\n" + licence)
    print(f"wrote {OUT}: {document['parameters']} parameters in {len(state)} tensors")


if __name__ == "__main__":
    main()
