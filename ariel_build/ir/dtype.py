"""Element types the IR and the generated Rust code know about."""

from __future__ import annotations

from enum import Enum

import numpy as np


class DType(Enum):
    F32 = ("float32", "f32", 4)
    F64 = ("float64", "f64", 8)
    I8 = ("int8", "i8", 1)
    U8 = ("uint8", "u8", 1)
    I16 = ("int16", "i16", 2)
    U16 = ("uint16", "u16", 2)
    I32 = ("int32", "i32", 4)
    U32 = ("uint32", "u32", 4)
    I64 = ("int64", "i64", 8)
    U64 = ("uint64", "u64", 8)
    BOOL = ("bool", "u8", 1)  # stored as 0/1 bytes in Rust

    def __init__(self, numpy_name: str, rust: str, size: int) -> None:
        self.numpy_name = numpy_name
        self.rust = rust
        self.size = size

    @property
    def numpy(self) -> np.dtype:
        return np.dtype(self.numpy_name)

    @property
    def is_float(self) -> bool:
        return self in (DType.F32, DType.F64)

    @property
    def is_int(self) -> bool:
        return not self.is_float and self is not DType.BOOL

    @property
    def is_signed(self) -> bool:
        return self.is_float or self.numpy_name.startswith("int")

    @classmethod
    def from_numpy(cls, dtype: np.dtype | type) -> DType:
        name = np.dtype(dtype).name
        for d in cls:
            if d.numpy_name == name:
                return d
        raise ValueError(f"unsupported element type {name}")

    def __repr__(self) -> str:
        return self.rust
