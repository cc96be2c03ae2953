"""A ``Generator``'s network as an ONNX graph for onnxruntime, built from the module itself.

The graph is the network on an already padded input (height and width multiples of 4, as the
engine gives it): ``x * 2 - 1``, then for every layer reflection pad → conv → instance norm →
ReLU, the residual additions, nearest ×2 upsampling, the 9×9 head and the sigmoid. Batch, height
and width are dynamic. Each module's type and settings are checked, so a network that does not
have exactly this layout is refused (:class:`UnsupportedNetwork`) instead of being mistranslated.
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

    def upsample(self, x: str, block: nn.Module) -> str:
        if type(block) is not UpsampleConv:
            raise UnsupportedNetwork(f"expected UpsampleConv, found {type(block).__name__}")
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
    for block in model.decoder:
        x = b.upsample(x, block)
    if len(model.head) != 2:
        raise UnsupportedNetwork("unexpected head layout")
    x = b.conv(b.pad(x, model.head[0]), model.head[1])
    g.add("Sigmoid", (x,), OUTPUT_NAME)
    return onnx_proto.model_bytes(g, "StyleStudio", __version__)
