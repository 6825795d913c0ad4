#!/usr/bin/env python3
"""Opens landslide checkpoints with Python's `safetensors` package (pip install safetensors
numpy) and reads every tensor: the check that our files are standard safetensors.

    tools/checks/read_checkpoint.py RUN/checkpoints/*.safetensors

Prints, per file, the tensor count, the total number of values, the metadata keys and the
training position's stage and epochs; exits non-zero if any file fails to open or holds a
non-finite value.
"""
import json
import sys

import numpy as np
from safetensors import safe_open


def check(path: str) -> bool:
    values = 0
    finite = True
    with safe_open(path, framework="numpy") as file:
        metadata = file.metadata() or {}
        names = list(file.keys())
        for name in names:
            tensor = file.get_tensor(name)
            values += tensor.size
            finite &= bool(np.isfinite(tensor).all())
    position = json.loads(metadata["training_position"]) if "training_position" in metadata else {}
    where = f", {position['stage']} after {position['completed_epochs']} epoch(s)" if position else ""
    print(f"{path}: {len(names)} tensors, {values} values, metadata {sorted(metadata)}{where}")
    if not finite:
        print(f"{path}: non-finite values", file=sys.stderr)
    return finite


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(0 if all([check(path) for path in sys.argv[1:]]) else 1)
