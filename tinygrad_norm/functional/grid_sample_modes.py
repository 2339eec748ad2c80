"""torch.nn.functional's tables of ``grid_sample``'s modes and the ints ATen's kernel takes for
them (code ported from torch reads them to call the kernel by number)."""
from __future__ import annotations

__all__ = ["GRID_SAMPLE_INTERPOLATION_MODES", "GRID_SAMPLE_PADDING_MODES"]

GRID_SAMPLE_INTERPOLATION_MODES = {"bilinear": 0, "nearest": 1, "bicubic": 2}
GRID_SAMPLE_PADDING_MODES = {"zeros": 0, "border": 1, "reflection": 2}
