"""A ``Generator``'s network as an ONNX graph for onnxruntime, built from the module itself.

The graph is the network on an already padded input (height and width multiples of 4, as the
engine gives it): ``x * 2 - 1``, then for every layer reflection pad → conv → instance norm →
ReLU, the residual additions, the two ×2 upsamplings, the 9×9 head and the sigmoid. Batch,
height and width are dynamic. Each module's type and settings are checked, so a network that
does not have exactly this layout is refused (:class:`UnsupportedNetwork`) instead of being
mistranslated.

Two full-resolution steps are computed in an equivalent, cheaper arrangement (the same sums,
only regrouped; the output matches PyTorch to ~120 dB PSNR):

- *the last upsample + conv*: nearest ×2, reflection pad 1 and a 3×3 conv equal an edge pad 1
  and a 3×3 conv with 4× the output channels on the half-resolution input, then
  ``DepthToSpace``: each of the four output phases sees the low-resolution pixels through a
  kernel whose taps are sums of the original's. No full-resolution upsampled 32-channel tensor
  or pad is made.
- *the head* (8 → 3 channels, 9×9): reflection pad 4, ``SpaceToDepth`` 2, a 5×5 conv with
  4 × 3 outputs, sigmoid, ``DepthToSpace``. onnxruntime's blocked convolution pads the output
  channels to 16; at 3 outputs that wasted 80 % of the largest conv, at 12 only 25 %.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from stylestudio import __version__
from stylestudio.core.engine import onnx_proto
from stylestudio.core.models.generator import ConvNormAct, Generator, ResidualBlock, UpsampleConv
from stylestudio.core.models.norm import StatsInstanceNorm

INPUT_NAME = "image"
OUTPUT_NAME = "stylized"


class UnsupportedNetwork(ValueError):
    """The module is not a plain ``Generator`` this graph builder can translate."""


def norm_is_plain(norm: StatsInstanceNorm) -> bool:
    """Whether the layer normalises with its input's own statistics (what the graph does)."""
    return norm.fixed is None and norm.recorder is None and getattr(norm, "adjust", None) is None


def _array(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float32).contiguous().numpy().copy()


def subpixel_kernel(weight: np.ndarray) -> np.ndarray:
    """(out, in, 3, 3) applied after nearest ×2 + reflection pad 1 → (4·out, in, 3, 3) applied
    to the edge-padded low-resolution input, output channel ``(py·2 + px)·out + o``.

    With ``U = up(X)`` and ``E = edge_pad(X, 1)``: ``reflect_pad(U, 1)[r] = E[(r + 1) // 2]``, so
    output row ``2a + py`` takes tap ``i`` from ``E[a + (py + i + 1) // 2]``.
    """
    out, cin = weight.shape[:2]
    kernel = np.zeros((2, 2, out, cin, 3, 3), np.float32)
    for py in range(2):
        for px in range(2):
            for i in range(3):
                for j in range(3):
                    kernel[py, px, :, :, (py + i + 1) // 2, (px + j + 1) // 2] += weight[:, :, i, j]
    return kernel.reshape(4 * out, cin, 3, 3)


def space_to_depth_kernel(weight: np.ndarray) -> np.ndarray:
    """(out, in, k, k), k odd → (4·out, 4·in, k // 2 + 1, same) on ``SpaceToDepth(2)`` of the
    padded input (input channel ``(dy·2 + dx)·in + c``, output ``(py·2 + px)·out + o``).

    Output pixel ``2a + py`` takes tap ``i`` from padded row ``2(a + q) + dy`` with
    ``i = 2q + dy - py``.
    """
    out, cin, k = weight.shape[0], weight.shape[1], weight.shape[2]
    taps = k // 2 + 1
    kernel = np.zeros((2, 2, out, 2, 2, cin, taps, taps), np.float32)
    for py, px, dy, dx in np.ndindex(2, 2, 2, 2):
        for q, r in np.ndindex(taps, taps):
            i, j = 2 * q + dy - py, 2 * r + dx - px
            if 0 <= i < k and 0 <= j < k:
                kernel[py, px, :, dy, dx, :, q, r] = weight[:, :, i, j]
    return kernel.reshape(4 * out, 4 * cin, taps, taps)


class _Builder:
    def __init__(self) -> None:
        shape = ("batch", 3, "height", "width")
        self.graph = onnx_proto.Graph(
            "stylestudio_generator", (INPUT_NAME, shape), (OUTPUT_NAME, shape)
        )
        self.count = 0

    def fresh(self, stem: str) -> str:
        self.count += 1
        return f"{stem}_{self.count}"

    def pad(self, x: str, module: nn.Module) -> str:
        if not isinstance(module, nn.ReflectionPad2d):
            raise UnsupportedNetwork(f"expected a reflection pad, found {type(module).__name__}")
        left, right, top, bottom = module.padding
        pads = np.array([0, 0, top, left, 0, 0, bottom, right], dtype=np.int64)
        const = self.graph.constant(self.fresh("pads"), pads)
        return self.graph.add("Pad", (x, const), self.fresh("pad"), mode="reflect")

    def conv(self, x: str, conv: nn.Module) -> str:
        if not isinstance(conv, nn.Conv2d) or type(conv) is not nn.Conv2d:
            raise UnsupportedNetwork(f"expected a Conv2d, found {type(conv).__name__}")
        if (
            conv.padding != (0, 0)
            or conv.dilation != (1, 1)
            or conv.groups != 1
            or conv.bias is None
        ):
            raise UnsupportedNetwork("only unpadded, undilated, ungrouped convolutions with bias")
        name = self.fresh("conv")
        weight = self.graph.constant(f"{name}.weight", _array(conv.weight))
        bias = self.graph.constant(f"{name}.bias", _array(conv.bias))
        return self.graph.add(
            "Conv",
            (x, weight, bias),
            name,
            kernel_shape=tuple(conv.kernel_size),
            strides=tuple(conv.stride),
            pads=(0, 0, 0, 0),
            dilations=(1, 1),
            group=1,
        )

    def norm(self, x: str, norm: nn.Module) -> str:
        if type(norm) is not StatsInstanceNorm:
            raise UnsupportedNetwork(f"expected StatsInstanceNorm, found {type(norm).__name__}")
        if not norm_is_plain(norm):
            raise UnsupportedNetwork("norm statistics are fixed, recorded or adjusted")
        name = self.fresh("norm")
        scale = self.graph.constant(f"{name}.weight", _array(norm.weight))
        bias = self.graph.constant(f"{name}.bias", _array(norm.bias))
        return self.graph.add(
            "InstanceNormalization", (x, scale, bias), name, epsilon=float(norm.eps)
        )

    def conv_norm_act(self, x: str, block: nn.Module) -> str:
        if type(block) is not ConvNormAct:
            raise UnsupportedNetwork(f"expected ConvNormAct, found {type(block).__name__}")
        y = self.norm(self.conv(self.pad(x, block.pad), block.conv), block.norm)
        return self.graph.add("Relu", (y,), self.fresh("relu")) if block.act else y

    def residual(self, x: str, block: nn.Module) -> str:
        if type(block) is not ResidualBlock or len(block.body) != 2:
            raise UnsupportedNetwork(f"expected ResidualBlock, found {type(block).__name__}")
        y = self.conv_norm_act(self.conv_norm_act(x, block.body[0]), block.body[1])
        return self.graph.add("Add", (x, y), self.fresh("residual"))

    def _conv_node(self, x: str, weight: np.ndarray, bias: np.ndarray, stem: str) -> str:
        name = self.fresh(stem)
        w = self.graph.constant(f"{name}.weight", weight)
        b = self.graph.constant(f"{name}.bias", bias)
        k = weight.shape[-1]
        return self.graph.add(
            "Conv", (x, w, b), name, kernel_shape=(k, k), strides=(1, 1), pads=(0, 0, 0, 0)
        )

    def upsample(self, x: str, block: nn.Module, subpixel: bool) -> str:
        if type(block) is not UpsampleConv:
            raise UnsupportedNetwork(f"expected UpsampleConv, found {type(block).__name__}")
        inner = block.block
        if subpixel and _is_conv(inner.conv, 3) and _is_reflect(inner.pad, 1):
            pads = self.graph.constant(self.fresh("pads"), np.array([0, 0, 1, 1] * 2, np.int64))
            y = self.graph.add("Pad", (x, pads), self.fresh("pad"), mode="edge")
            weight = subpixel_kernel(_array(inner.conv.weight))
            bias = np.tile(_array(inner.conv.bias), 4)
            y = self._conv_node(y, weight, bias, "upconv")
            y = self.graph.add("DepthToSpace", (y,), self.fresh("up"), blocksize=2, mode="DCR")
            y = self.norm(y, inner.norm)
            return self.graph.add("Relu", (y,), self.fresh("relu")) if inner.act else y
        scales = self.graph.constant(self.fresh("scales"), np.array([1, 1, 2, 2], np.float32))
        # F.interpolate(scale_factor=2, mode="nearest"): source index floor(i / 2).
        y = self.graph.add(
            "Resize",
            (x, "", scales),
            self.fresh("up"),
            mode="nearest",
            coordinate_transformation_mode="asymmetric",
            nearest_mode="floor",
        )
        return self.conv_norm_act(y, block.block)

    def head(self, x: str, head: nn.Module) -> str:
        """The last pad + conv and the sigmoid, ending in the graph's output."""
        if len(head) != 2:
            raise UnsupportedNetwork("unexpected head layout")
        pad, conv = head[0], head[1]
        k = conv.kernel_size[0] if isinstance(conv, nn.Conv2d) else 0
        if _is_conv(conv, k) and k % 2 == 1 and (k // 2) % 2 == 0 and _is_reflect(pad, k // 2):
            y = self.graph.add("SpaceToDepth", (self.pad(x, pad),), self.fresh("s2d"), blocksize=2)
            weight = space_to_depth_kernel(_array(conv.weight))
            y = self._conv_node(y, weight, np.tile(_array(conv.bias), 4), "head")
            y = self.graph.add("Sigmoid", (y,), self.fresh("sigmoid"))
            return self.graph.add("DepthToSpace", (y,), OUTPUT_NAME, blocksize=2, mode="DCR")
        return self.graph.add("Sigmoid", (self.conv(self.pad(x, pad), conv),), OUTPUT_NAME)


def _is_conv(conv: nn.Module, kernel: int) -> bool:
    """A plain stride-1 ``kernel`` × ``kernel`` Conv2d (what the rearrangements assume)."""
    return (
        type(conv) is nn.Conv2d
        and tuple(conv.kernel_size) == (kernel, kernel)
        and tuple(conv.stride) == (1, 1)
        and tuple(conv.padding) == (0, 0)
        and tuple(conv.dilation) == (1, 1)
        and conv.groups == 1
        and conv.bias is not None
    )


def _is_reflect(pad: nn.Module, amount: int) -> bool:
    return type(pad) is nn.ReflectionPad2d and tuple(pad.padding) == (amount,) * 4


def generator_onnx(model: nn.Module) -> bytes:
    """The serialised ONNX model of ``model`` (a plain :class:`Generator`) with its weights."""
    if type(model) is not Generator:
        raise UnsupportedNetwork(f"{type(model).__name__} is not a Generator")
    b = _Builder()
    g = b.graph
    two = g.constant("two", np.array(2.0, np.float32))
    one = g.constant("one", np.array(1.0, np.float32))
    x = g.add("Sub", (g.add("Mul", (INPUT_NAME, two), "scaled"), one), "centred")
    for block in model.encoder:
        x = b.conv_norm_act(x, block)
    for block in model.residuals:
        x = b.residual(x, block)
    for index, block in enumerate(model.decoder):
        # Only the last upsampling (to full resolution) gains: at half resolution the
        # DepthToSpace costs more than the Resize and pad it saves (profiled).
        x = b.upsample(x, block, subpixel=index == len(model.decoder) - 1)
    b.head(x, model.head)
    return onnx_proto.model_bytes(g, "StyleStudio", __version__)
