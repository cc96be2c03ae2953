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

With an :class:`~stylestudio.core.engine.quantize.Int8Plan` the planned convolutions are written
in QDQ form (see ``quantize``): the input quantised to uint8 *before* its pad (and before the
nearest upsampling or ``SpaceToDepth``), so those run on a quarter of the bytes, and the output
quantised again, the ``DepthToSpace`` of the upsampling conv included, until the float32 norm.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import torch
from torch import nn

from stylestudio import __version__
from stylestudio.core.engine import onnx_proto
from stylestudio.core.engine.quantize import (
    ConvRanges,
    Int8Plan,
    TensorRange,
    equalise_for_norm,
    quantize_bias,
    quantize_weight,
)
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
    def __init__(self, model: Generator, plan: Int8Plan | None, taps: Collection[str] = ()) -> None:
        shape = ("batch", 3, "height", "width")
        self.graph = onnx_proto.Graph(
            "stylestudio_generator", (INPUT_NAME, shape), (OUTPUT_NAME, shape)
        )
        self.count = 0
        self.plan = plan
        self.names = {id(m): name for name, m in model.named_modules()}
        self.quantised: set[str] = set()
        self.taps = set(taps)
        #: conv module name → (its input tensor, its output tensor), for the wanted taps.
        self.tapped: dict[str, tuple[str, str]] = {}
        if plan is not None:
            convs = {n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)}
            unknown = sorted(set(plan.convs) - convs)
            if unknown:
                raise UnsupportedNetwork(f"the int8 plan names unknown convs: {unknown}")

    def tap(self, conv: nn.Module, x: str, y: str) -> None:
        """Remember a float32 conv's input and output where calibration wants them."""
        name = self.names.get(id(conv), "")
        if name in self.taps:
            self.tapped[name] = (x, y)

    def ranges(self, conv: nn.Module) -> ConvRanges | None:
        """The conv's calibrated ranges where the plan quantises it."""
        if self.plan is None:
            return None
        name = self.names.get(id(conv), "")
        found = self.plan.convs.get(name)
        if found is not None:
            self.quantised.add(name)
        return found

    # -- QDQ ------------------------------------------------------------------------------

    def _qparams(self, stem: str, span: TensorRange) -> tuple[str, str]:
        scale, zero = span.uint8()
        s = self.graph.constant(self.fresh(f"{stem}.scale"), np.array(scale, np.float32))
        z = self.graph.constant(self.fresh(f"{stem}.zero"), np.array(zero, np.uint8))
        return s, z

    def quantise(self, x: str, span: TensorRange) -> str:
        """float32 → uint8 at the range's scale and zero point."""
        s, z = self._qparams("q", span)
        return self.graph.add("QuantizeLinear", (x, s, z), self.fresh("q"))

    def dequantise(self, x: str, span: TensorRange) -> str:
        s, z = self._qparams("dq", span)
        return self.graph.add("DequantizeLinear", (x, s, z), self.fresh("dq"))

    def qconv(
        self,
        x: str,
        weight: np.ndarray,
        bias: np.ndarray,
        ranges: ConvRanges,
        stride: tuple[int, int] = (1, 1),
        norm_phases: int = 0,
    ) -> tuple[str, TensorRange]:
        """``x`` (uint8 at ``ranges.input``) → DQ → Conv (int8 weights, int32 bias) → Q: the
        uint8 output and its range (onnxruntime fuses this into a QLinearConv).

        ``norm_phases`` > 0: the output goes into an instance norm, in that many phase blocks
        (see ``quantize.equalise_for_norm``), so each channel is stretched to the full range."""
        assert self.plan is not None
        out_range = ranges.output
        if norm_phases and ranges.output_channels:
            weight, bias, out_range = equalise_for_norm(
                weight, bias, ranges.output_channels, norm_phases, self.plan.norm_headroom
            )
        name = self.fresh("qconv")
        in_scale, _ = ranges.input.uint8()
        q_weight, w_scale = quantize_weight(weight, self.plan.weight_bits)
        b_scale = (np.float32(in_scale) * w_scale).astype(np.float32)
        channels = weight.shape[0]
        g = self.graph
        w = g.add(
            "DequantizeLinear",
            (
                g.constant(f"{name}.weight", q_weight),
                g.constant(f"{name}.weight_scale", w_scale),
                g.constant(f"{name}.weight_zero", np.zeros(channels, np.int8)),
            ),
            f"{name}.weight_dq",
            axis=0,
        )
        b = g.add(
            "DequantizeLinear",
            (
                g.constant(f"{name}.bias", quantize_bias(bias, b_scale)),
                g.constant(f"{name}.bias_scale", b_scale),
                g.constant(f"{name}.bias_zero", np.zeros(channels, np.int32)),
            ),
            f"{name}.bias_dq",
            axis=0,
        )
        k = weight.shape[-1]
        y = g.add(
            "Conv",
            (self.dequantise(x, ranges.input), w, b),
            name,
            kernel_shape=(k, k),
            strides=stride,
            pads=(0, 0, 0, 0),
        )
        return self.quantise(y, out_range), out_range

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
        _check_conv(conv)
        name = self.fresh("conv")
        weight = self.graph.constant(f"{name}.weight", _array(conv.weight))
        bias = self.graph.constant(f"{name}.bias", _array(conv.bias))
        y = self.graph.add(
            "Conv",
            (x, weight, bias),
            name,
            kernel_shape=tuple(conv.kernel_size),
            strides=tuple(conv.stride),
            pads=(0, 0, 0, 0),
            dilations=(1, 1),
            group=1,
        )
        self.tap(conv, x, y)
        return y

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
        ranges = self.ranges(block.conv)
        if ranges is not None:
            return self.quantised_conv_norm_act(self.quantise(x, ranges.input), block, ranges)
        return self.norm_act(self.conv(self.pad(x, block.pad), block.conv), block)

    def norm_act(self, y: str, block: ConvNormAct) -> str:
        y = self.norm(y, block.norm)
        return self.graph.add("Relu", (y,), self.fresh("relu")) if block.act else y

    def quantised_conv_norm_act(self, xq: str, block: ConvNormAct, ranges: ConvRanges) -> str:
        """``xq``: the block's input already in uint8 at ``ranges.input``."""
        conv = block.conv
        _check_conv(conv)
        padded = self.pad(xq, block.pad)
        weight, bias = _array(conv.weight), _array(conv.bias)
        yq, span = self.qconv(padded, weight, bias, ranges, conv.stride, norm_phases=1)
        return self.norm_act(self.dequantise(yq, span), block)

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
        if type(inner) is not ConvNormAct:
            raise UnsupportedNetwork(f"expected ConvNormAct, found {type(inner).__name__}")
        ranges = self.ranges(inner.conv)
        if subpixel and _is_conv(inner.conv, 3) and _is_reflect(inner.pad, 1):
            if ranges is not None:
                x = self.quantise(x, ranges.input)
            pads = self.graph.constant(self.fresh("pads"), np.array([0, 0, 1, 1] * 2, np.int64))
            y = self.graph.add("Pad", (x, pads), self.fresh("pad"), mode="edge")
            weight = subpixel_kernel(_array(inner.conv.weight))
            bias = np.tile(_array(inner.conv.bias), 4)
            span = ranges.output if ranges is not None else None
            if ranges is not None:
                y, span = self.qconv(y, weight, bias, ranges, norm_phases=4)
            else:
                padded, y = y, self._conv_node(y, weight, bias, "upconv")
                self.tap(inner.conv, padded, y)
            y = self.graph.add("DepthToSpace", (y,), self.fresh("up"), blocksize=2, mode="DCR")
            if span is not None:
                y = self.dequantise(y, span)
            return self.norm_act(y, inner)
        if ranges is not None:
            x = self.quantise(x, ranges.input)  # upsampled in uint8: a quarter of the bytes
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
        if ranges is not None:
            return self.quantised_conv_norm_act(y, inner, ranges)
        return self.conv_norm_act(y, inner)

    def head(self, x: str, head: nn.Module) -> str:
        """The last pad + conv and the sigmoid, ending in the graph's output."""
        if len(head) != 2:
            raise UnsupportedNetwork("unexpected head layout")
        pad, conv = head[0], head[1]
        k = conv.kernel_size[0] if isinstance(conv, nn.Conv2d) else 0
        ranges = self.ranges(conv)
        if ranges is not None:
            x = self.quantise(x, ranges.input)
        if _is_conv(conv, k) and k % 2 == 1 and (k // 2) % 2 == 0 and _is_reflect(pad, k // 2):
            y = self.graph.add("SpaceToDepth", (self.pad(x, pad),), self.fresh("s2d"), blocksize=2)
            weight = space_to_depth_kernel(_array(conv.weight))
            bias = np.tile(_array(conv.bias), 4)
            if ranges is not None:
                y = self.dequantise(*self.qconv(y, weight, bias, ranges))
            else:
                padded, y = y, self._conv_node(y, weight, bias, "head")
                self.tap(conv, padded, y)
            y = self.graph.add("Sigmoid", (y,), self.fresh("sigmoid"))
            return self.graph.add("DepthToSpace", (y,), OUTPUT_NAME, blocksize=2, mode="DCR")
        if ranges is not None:
            _check_conv(conv)
            y = self.dequantise(
                *self.qconv(self.pad(x, pad), _array(conv.weight), _array(conv.bias), ranges)
            )
        else:
            y = self.conv(self.pad(x, pad), conv)
        return self.graph.add("Sigmoid", (y,), OUTPUT_NAME)


def _check_conv(conv: nn.Module) -> None:
    if not isinstance(conv, nn.Conv2d) or type(conv) is not nn.Conv2d:
        raise UnsupportedNetwork(f"expected a Conv2d, found {type(conv).__name__}")
    if conv.padding != (0, 0) or conv.dilation != (1, 1) or conv.groups != 1 or conv.bias is None:
        raise UnsupportedNetwork("only unpadded, undilated, ungrouped convolutions with bias")


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


def generator_onnx(model: nn.Module, plan: Int8Plan | None = None) -> bytes:
    """The serialised ONNX model of ``model`` (a plain :class:`Generator`) with its weights;
    with ``plan``, its planned convolutions in int8 (QDQ)."""
    return _build(model, plan, ())[0]


def calibration_onnx(model: nn.Module, convs: Collection[str]) -> tuple[bytes, dict[str, int]]:
    """The float32 graph with the input and output of each conv in ``convs`` (module names) as
    extra graph outputs: the model and, per conv, the index of its input among the session's
    outputs (its output follows)."""
    data, tapped = _build(model, None, convs)
    missing = sorted(set(convs) - set(tapped))
    if missing:
        raise UnsupportedNetwork(f"no such convs to calibrate: {missing}")
    return data, {name: 1 + 2 * i for i, name in enumerate(tapped)}


def _build(
    model: nn.Module, plan: Int8Plan | None, taps: Collection[str]
) -> tuple[bytes, dict[str, tuple[str, str]]]:
    if type(model) is not Generator:
        raise UnsupportedNetwork(f"{type(model).__name__} is not a Generator")
    b = _Builder(model, plan, taps)
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
    if plan is not None and b.quantised != set(plan.convs):
        missing = sorted(set(plan.convs) - b.quantised)
        raise UnsupportedNetwork(f"the int8 plan's convs {missing} were not written")
    for x, y in b.tapped.values():
        g.extra_outputs += [x, y]
    return onnx_proto.model_bytes(g, "StyleStudio", __version__), b.tapped
