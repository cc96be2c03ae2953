"""A minimal writer of ONNX model files, so the engine needs no ``onnx`` package at run time.

An ONNX model is a protocol-buffer message (``onnx.proto``, proto2). The engine only has to
*write* one small, known graph for onnxruntime (see ``generator_graph``), so this module encodes
the few messages it needs (model, graph, node, attribute, tensor, value info) straight into the
protobuf wire format. Field numbers follow ``onnx/onnx.proto`` (stable since IR version 3).
Repeated numbers are written unpacked, which every protobuf parser accepts.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

#: IR version 8 goes with opset 17 (ONNX 1.12), which onnxruntime ≥ 1.12 reads.
IR_VERSION = 8
OPSET = 17


class DataType(IntEnum):
    """``TensorProto.DataType`` values used here."""

    FLOAT = 1
    UINT8 = 2
    INT8 = 3
    INT32 = 6
    INT64 = 7


class _AttrType(IntEnum):
    FLOAT = 1
    INT = 2
    STRING = 3
    INTS = 7


_NUMPY_TYPES = {
    np.dtype(np.float32): DataType.FLOAT,
    np.dtype(np.uint8): DataType.UINT8,
    np.dtype(np.int8): DataType.INT8,
    np.dtype(np.int32): DataType.INT32,
    np.dtype(np.int64): DataType.INT64,
}


def _varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64  # int64 fields: two's complement in 10 bytes
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _int(number: int, value: int) -> bytes:
    return _key(number, 0) + _varint(value)


def _bytes(number: int, value: bytes) -> bytes:
    return _key(number, 2) + _varint(len(value)) + value


def _str(number: int, value: str) -> bytes:
    return _bytes(number, value.encode("utf-8"))


def _float(number: int, value: float) -> bytes:
    return _key(number, 5) + struct.pack("<f", value)


AttrValue = int | float | str | tuple[int, ...]


@dataclass(frozen=True)
class Node:
    op_type: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attributes: dict[str, AttrValue] = field(default_factory=dict)

    def encode(self, name: str) -> bytes:
        data = b"".join(_str(1, i) for i in self.inputs)
        data += b"".join(_str(2, o) for o in self.outputs)
        data += _str(3, name) + _str(4, self.op_type)
        for key, value in self.attributes.items():
            data += _bytes(5, _attribute(key, value))
        return data


def _attribute(name: str, value: AttrValue) -> bytes:
    data = _str(1, name)
    if isinstance(value, bool):
        raise TypeError(f"attribute {name!r}: use an int, not a bool")
    if isinstance(value, int):
        return data + _int(3, value) + _int(20, _AttrType.INT)
    if isinstance(value, float):
        return data + _float(2, value) + _int(20, _AttrType.FLOAT)
    if isinstance(value, str):
        return data + _str(4, value) + _int(20, _AttrType.STRING)
    return data + b"".join(_int(8, v) for v in value) + _int(20, _AttrType.INTS)


def _tensor(name: str, array: np.ndarray) -> bytes:
    dtype = _NUMPY_TYPES.get(array.dtype)
    if dtype is None:
        raise TypeError(f"tensor {name!r}: unsupported dtype {array.dtype}")
    data = b"".join(_int(1, d) for d in array.shape) + _int(2, dtype)
    raw = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    return data + _str(8, name) + _bytes(9, raw)


#: A dimension: a fixed size or a symbolic name.
Dim = int | str


def _value_info(name: str, elem: DataType, shape: tuple[Dim, ...] | None) -> bytes:
    """A tensor's name and type; ``shape`` None leaves the shape (even the rank) unknown."""
    tensor_type = _int(1, elem)
    if shape is not None:
        dims = b"".join(_bytes(1, _int(1, d) if isinstance(d, int) else _str(2, d)) for d in shape)
        tensor_type += _bytes(2, dims)
    return _str(1, name) + _bytes(2, _bytes(1, tensor_type))


@dataclass
class Graph:
    """Nodes in execution order, initializers (float32, int64 and, for quantised graphs,
    uint8 / int8 / int32), one float32 input and one float32 output (plus any extra ones)."""

    name: str
    input: tuple[str, tuple[Dim, ...]]
    output: tuple[str, tuple[Dim, ...]]
    nodes: list[Node] = field(default_factory=list)
    initializers: dict[str, np.ndarray] = field(default_factory=dict)
    #: Intermediate float32 tensors also returned (after the output), shape left open.
    extra_outputs: list[str] = field(default_factory=list)

    def constant(self, name: str, array: np.ndarray) -> str:
        if name in self.initializers:
            raise ValueError(f"initializer {name!r} defined twice")
        self.initializers[name] = array
        return name

    def add(self, op_type: str, inputs: tuple[str, ...], output: str, **attrs: AttrValue) -> str:
        self.nodes.append(Node(op_type, inputs, (output,), attrs))
        return output

    def encode(self) -> bytes:
        data = b"".join(_bytes(1, n.encode(f"n{i}_{n.op_type}")) for i, n in enumerate(self.nodes))
        data += _str(2, self.name)
        data += b"".join(_bytes(5, _tensor(k, v)) for k, v in self.initializers.items())
        data += _bytes(11, _value_info(self.input[0], DataType.FLOAT, self.input[1]))
        data += _bytes(12, _value_info(self.output[0], DataType.FLOAT, self.output[1]))
        data += b"".join(
            _bytes(12, _value_info(n, DataType.FLOAT, None)) for n in self.extra_outputs
        )
        return data


def model_bytes(graph: Graph, producer: str, version: str) -> bytes:
    """A serialised ``ModelProto`` holding ``graph`` (default domain, opset :data:`OPSET`)."""
    opset = _str(1, "") + _int(2, OPSET)
    return (
        _int(1, IR_VERSION)
        + _str(2, producer)
        + _str(3, version)
        + _bytes(7, graph.encode())
        + _bytes(8, opset)
    )
