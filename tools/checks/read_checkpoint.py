#!/usr/bin/env python3
"""Opens landslide checkpoints with Python's `safetensors` package (pip install safetensors
numpy) and reads every tensor: the check that our files are standard safetensors. Verifies
the checksum of the data section that the metadata carries: CRC-32C (`checksum_algorithm`
`crc32c`, `checksum` 8 hex digits), or in files written before it (no `checksum_algorithm`)
the legacy 64-bit hash.

    tools/checks/read_checkpoint.py RUN/checkpoints/*.safetensors

Prints, per file, the tensor count, the total number of values, the metadata keys, the
checksum and the training position's stage and epochs; exits non-zero if any file fails to
open, fails its checksum, names an unknown checksum algorithm or holds a non-finite value.

CRC-32C comes from the `crc32c` or `google-crc32c` package where one is installed, else
from numpy here (about 80 MB/s).
"""
import json
import struct
import sys

import numpy as np
from safetensors import safe_open

# CRC-32C (Castagnoli): reflected polynomial, initial value and final xor 0xFFFFFFFF.
POLYNOMIAL = 0x82F63B78
MASK32 = 0xFFFFFFFF


def _byte_table() -> list:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ (POLYNOMIAL if crc & 1 else 0)
        table.append(crc)
    return table


TABLE = _byte_table()
TABLE_NP = np.array(TABLE, dtype=np.uint32)


def _register_update(register: int, data) -> int:
    """The CRC register after `data`, one table look-up per byte (no initial or final xor)."""
    for byte in data:
        register = (register >> 8) ^ TABLE[(register ^ byte) & 0xFF]
    return register


# The register update is linear over GF(2), so appending zero bytes is a 32x32 bit matrix,
# stored as its 32 columns (the images of the single bits), as zlib's crc32_combine does.
def _apply(matrix: list, value: int) -> int:
    result = 0
    bit = 0
    while value:
        if value & 1:
            result ^= matrix[bit]
        value >>= 1
        bit += 1
    return result


def _zero_bytes_operator(count: int) -> list:
    """The matrix that feeds `count` zero bytes into the register."""
    one_byte = [_register_update(1 << bit, b"\0") for bit in range(32)]
    result = [1 << bit for bit in range(32)]
    while count:
        if count & 1:
            result = [_apply(one_byte, column) for column in result]
        one_byte = [_apply(one_byte, column) for column in one_byte]
        count >>= 1
    return result


def crc32c_python(data) -> int:
    """CRC-32C of `data`: numpy runs many lanes (contiguous slices) in step, one look-up per
    byte of each, and their registers are then combined with the zero-bytes operator."""
    data = memoryview(data).cast("B")
    lanes = min(65536, len(data) // 1024)
    if lanes < 2:
        return _register_update(MASK32, data) ^ MASK32
    length = len(data) // lanes
    body = np.frombuffer(data, dtype=np.uint8, count=lanes * length)
    # Step i reads byte i of every lane: one contiguous row per step.
    steps = np.ascontiguousarray(body.reshape(lanes, length).T)
    registers = np.zeros(lanes, dtype=np.uint32)
    registers[0] = MASK32
    index = np.empty(lanes, dtype=np.uint32)
    for row in steps:
        np.bitwise_xor(registers, row, out=index)
        np.bitwise_and(index, 0xFF, out=index)
        np.right_shift(registers, 8, out=registers)
        np.bitwise_xor(registers, TABLE_NP[index], out=registers)
    shift = _zero_bytes_operator(length)
    shift_tables = [[_apply(shift, byte << (8 * k)) for byte in range(256)] for k in range(4)]
    register = 0
    for lane in registers.tolist():
        register = (
            shift_tables[0][register & 0xFF]
            ^ shift_tables[1][(register >> 8) & 0xFF]
            ^ shift_tables[2][(register >> 16) & 0xFF]
            ^ shift_tables[3][register >> 24]
            ^ lane
        )
    return _register_update(register, data[lanes * length :]) ^ MASK32


def crc32c(data) -> int:
    """CRC-32C of `data`, on an installed package if there is one."""
    try:
        import google_crc32c

        return google_crc32c.value(bytes(data))
    except ImportError:
        pass
    try:
        import crc32c as package

        return package.crc32c(data)
    except ImportError:
        return crc32c_python(data)


def legacy_checksum(data) -> int:
    """The 64-bit hash of files written before CRC-32C (SafeTensors.checksum in Swift): per
    little-endian 8-byte word h = rotl((h ^ w) * p mod 2^64, 29); then the tail bytes are
    shifted, first byte highest, into the byte count (mod 2^64) and folded in the same way."""
    mask = (1 << 64) - 1
    prime = 0x0000_0100_0000_01B3

    def step(hash_: int, word: int) -> int:
        value = ((hash_ ^ word) * prime) & mask
        return ((value << 29) | (value >> 35)) & mask

    data = memoryview(data).cast("B")
    words = len(data) // 8
    hash_ = 0xCBF2_9CE4_8422_2325
    for (word,) in struct.iter_unpack("<Q", data[: words * 8]):
        hash_ = step(hash_, word)
    tail = len(data) & mask
    for byte in data[words * 8 :]:
        tail = ((tail << 8) | byte) & mask
    return step(hash_, tail)


def verify_checksum(path: str) -> tuple:
    """(ok, description) of the checksum in the file's metadata, read as any reader would:
    the 8-byte little-endian header length, the JSON header, the data section after it."""
    with open(path, "rb") as file:
        (length,) = struct.unpack("<Q", file.read(8))
        header = json.loads(file.read(length))
        data = file.read()
    metadata = header.get("__metadata__") or {}
    stored = metadata.get("checksum")
    algorithm = metadata.get("checksum_algorithm")
    if stored is None:
        if algorithm is not None:
            return False, f"checksum algorithm {algorithm} named but no checksum"
        return True, "no checksum"
    if algorithm is None:
        computed = format(legacy_checksum(data), "x")
        name = "legacy hash"
    elif algorithm == "crc32c":
        computed = format(crc32c(data), "08x")
        name = "crc32c"
    else:
        return False, f"unknown checksum algorithm {algorithm!r}"
    if stored.lower() != computed:
        return False, f"checksum mismatch ({name} stored {stored}, computed {computed})"
    return True, f"{name} {computed} verified"


def check(path: str) -> bool:
    checksum_ok, checksum = verify_checksum(path)
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
    print(f"{path}: {len(names)} tensors, {values} values, metadata {sorted(metadata)}, {checksum}{where}")
    if not checksum_ok:
        print(f"{path}: {checksum}", file=sys.stderr)
    if not finite:
        print(f"{path}: non-finite values", file=sys.stderr)
    return checksum_ok and finite


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(0 if all([check(path) for path in sys.argv[1:]]) else 1)
