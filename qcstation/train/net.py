"""A compact U-Net: five classes per 4x4 input pixels, ~80 k parameters, fully convolutional.

The first two layers take the input down to 1/4 at once (a 2x2 patch layer, then a strided
3x3), so a 2 px/mm bench view costs ~1.4 k multiply-adds per input pixel; the encoder goes on to
1/16 with a dilated layer for context (a tuft is told from stray hairs by its clump, a string by
its length) and the decoder comes back to 1/4 with skip connections.
"""

from __future__ import annotations

import copy
import logging

import torch
import torch.nn.functional as F
from torch import nn

logger = logging.getLogger(__name__)

INPUT_MULTIPLE = 16  # four halvings
OUTPUT_STRIDE = 4
WIDTHS = (12, 16, 32, 48)  # channels at 1/2, 1/4, 1/8 and 1/16 of the input


class Block(nn.Sequential):
    """Convolution, batch norm, ReLU; `fuse` folds the norm into the convolution for export."""

    def __init__(self, cin: int, cout: int, k: int = 3, stride: int = 1, dilation: int = 1):
        pad = 0 if k == stride else dilation * (k - 1) // 2
        super().__init__(
            nn.Conv2d(cin, cout, k, stride, pad, dilation, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        )


class UNet(nn.Module):
    """Normalised BGR (N, 3, H, W) -> class probabilities (N, classes, H/4, W/4)."""

    def __init__(self, classes: int = 5, widths: tuple[int, int, int, int] = WIDTHS):
        super().__init__()
        a, b, c, d = widths
        self.stem = Block(3, a, k=2, stride=2)
        self.down1 = nn.Sequential(Block(a, b, stride=2), Block(b, b))
        self.down2 = nn.Sequential(Block(b, c, stride=2), Block(c, c))
        self.down3 = nn.Sequential(Block(c, d, stride=2), Block(d, d, dilation=2))
        self.up2 = Block(d + c, c)
        self.up1 = Block(c + b, b)
        self.head = nn.Conv2d(b, classes, 1)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        s4 = self.down1(self.stem(x))
        s8 = self.down2(s4)
        y = self.down3(s8)
        y = self.up2(torch.cat([_up(y), s8], 1))
        y = self.up1(torch.cat([_up(y), s4], 1))
        return self.head(y)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # softmax spelled out: onnxruntime's Softmax over the channel axis of NCHW took 15 % of
        # the model's time, max/exp/sum over it 2 %
        z = self.logits(x)
        e = torch.exp(z - z.amax(dim=1, keepdim=True))
        return e / e.sum(dim=1, keepdim=True)


def _up(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)


def fused(model: UNet) -> UNet:
    """A copy for inference with every batch norm folded into its convolution (same outputs)."""
    out = copy.deepcopy(model).eval()
    for block in out.modules():
        if isinstance(block, Block) and isinstance(block[1], nn.BatchNorm2d):
            conv, bn = block[0], block[1]
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            new = nn.Conv2d(
                conv.in_channels,
                conv.out_channels,
                conv.kernel_size,
                conv.stride,
                conv.padding,
                conv.dilation,
                bias=True,
            )
            with torch.no_grad():
                new.weight.copy_(conv.weight * scale[:, None, None, None])
                new.bias.copy_(bn.bias - bn.running_mean * scale)
            block[0], block[1] = new, nn.Identity()
    return out


def convs(model: nn.Module) -> list[nn.Conv2d]:
    """The convolutions in the order the forward pass meets them (= the ONNX graph's order)."""
    return [m for m in model.modules() if isinstance(m, nn.Conv2d)]


def param_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
