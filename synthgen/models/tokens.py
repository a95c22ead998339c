"""Columns as tokens, shared by the autoregressive table models (`tabular_ar`, `tabular_mlp_ar`).

A category block's slot, a missing flag's two states, and a numeric score's bin among `bins`
equal-probability bins (the encoder made every numeric standard normal, so equal bins in Φ(z) hold
equal shares of rows) are each one token. A bin is decoded to a uniform draw inside it, which the
encoder's inverse maps back onto the column's own quantiles and value grid. Every column has its
own slice of one vocabulary and of one output layer, so each position is its own softmax.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from synthgen.models.base import Blocks, ModelConfig, TabularModel

MIN_BINS, MAX_BINS = 16, 64


class TokenConfig(ModelConfig):
    bins: int | None = None  # None: about sqrt(train rows), between 16 and 64 (finer bins overfit small tables)
    temperature: float = 1.0
    # The columns' generation order (position_blocks). "auto": a fit trains each distinct order and
    # keeps the one with the lower validation loss (candidate_configs); built outside a fit, schema.
    order: Literal["auto", "schema", "categories_first"] = "auto"


ORDERS = ("schema", "categories_first")  # what "auto" chooses between, the first when it cannot compare


def position_blocks(blocks: Blocks, order: str) -> list[int]:
    """The encoded block each position generates, in generation order. "schema" keeps the encoder's
    order. "categories_first" generates every category block first (in the encoder's order), then the
    numbers and their missing flags, so the numbers are drawn given the categories instead of a
    category being predicted from the numbers' bins; which order fits better depends on the table."""
    if order in ("schema", "auto"):
        return list(range(len(blocks)))
    first = [i for i, (kind, _) in enumerate(blocks) if kind == "onehot"]
    return first + [i for i, (kind, _) in enumerate(blocks) if kind != "onehot"]


def draw_tokens(logits: torch.Tensor, temperature: float, generator: torch.Generator) -> torch.Tensor:
    """One token per row: a binary search of one uniform per row in the row's cumulative (unnormalised)
    softmax. The same law as torch.multinomial, at a fraction of its cost on large batches. Two tokens
    (a missing flag, a yes/no column) take one comparison with the first token's probability instead."""
    logits = logits.float() if temperature == 1.0 else logits.float() / temperature
    if logits.shape[1] == 2:
        u = torch.rand(len(logits), generator=generator, device=logits.device)
        return (u >= torch.sigmoid(logits[:, 0] - logits[:, 1])).long()
    cumulative = (logits - logits.amax(1, keepdim=True)).exp_().cumsum_(1)
    u = torch.rand((len(logits), 1), generator=generator, device=logits.device) * cumulative[:, -1:]
    return torch.searchsorted(cumulative, u, right=True).squeeze_(1).clamp_(max=logits.shape[1] - 1)


class TokenModel(TabularModel):
    """Tokenising, per-position loss and decoding; subclasses supply the network and `sample`."""

    Config = TokenConfig

    @classmethod
    def sized_config(cls, config: dict[str, Any], n_rows: int) -> dict[str, Any]:
        if config.get("bins") is None:
            config = {**config, "bins": int(np.clip(round(np.sqrt(n_rows)), MIN_BINS, MAX_BINS))}
        return config

    @classmethod
    def candidate_configs(cls, config: dict[str, Any], blocks: Blocks) -> list[dict[str, Any]]:
        """With order "auto", one config per distinct generation order (a table whose categories already
        come first has one); otherwise the config as given."""
        if config.get("order", cls.Config.model_fields["order"].default) != "auto":
            return [config]
        seen: set[tuple[int, ...]] = set()
        configs = []
        for order in ORDERS:
            positions = tuple(position_blocks(blocks, order))
            if positions not in seen:
                seen.add(positions)
                configs.append({**config, "order": order})
        return configs

    def __init__(self, n_features: int, n_classes: int, config: dict[str, Any], blocks: Blocks | None = None) -> None:
        super().__init__(n_features, n_classes, config, blocks)
        self.bins = self.config.bins or MAX_BINS
        self.position_blocks = position_blocks(self.blocks, self.config.order)
        self.block_positions = [self.position_blocks.index(b) for b in range(len(self.blocks))]
        widths = [self.bins if kind == "value" else 2 if kind == "flag" else width for kind, width in self.blocks]
        self.sizes = [widths[b] for b in self.position_blocks]  # per position
        offsets = torch.tensor([0, *self.sizes]).cumsum(0)
        self.register_buffer("offsets", offsets[:-1], persistent=False)
        self.vocab = int(offsets[-1])
        self.head: nn.Linear  # (hidden, vocab): each position's logits are its own rows

    def _own(self, position: int) -> slice:
        """Position `position`'s rows of the vocabulary (and of the head)."""
        start = int(self.offsets[position])
        return slice(start, start + self.sizes[position])

    def _tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Encoded rows to one token per position (in generation order), each offset into the shared
        vocabulary."""
        cols, start = [], 0
        for kind, width in self.blocks:
            block = x[:, start : start + width]
            start += width
            if kind == "onehot":
                cols.append(block.argmax(1))
            elif kind == "flag":
                cols.append((block[:, 0] > 0).long())
            else:
                u = torch.special.ndtr(block[:, 0].float())
                cols.append((u * self.bins).long().clamp(0, self.bins - 1))
        return torch.stack([cols[b] for b in self.position_blocks], 1) + self.offsets

    def _position_logits(self, h: torch.Tensor, position: int) -> torch.Tensor:
        """Logits over position `position`'s own tokens from its hidden state (rows, hidden)."""
        own = self._own(position)
        return F.linear(h, self.head.weight[own], self.head.bias[own])

    def loss(self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The mean of the rows' losses, so training and validation share one cross-entropy loop."""
        return self.row_losses(x, y).mean()

    def _position_row_losses(self, h: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Each row's mean cross-entropy per position, every position against its own tokens only: a
        1,228-value column does not make every other position pay for a vocabulary-wide softmax. Their
        mean is the training loss. h: (rows, positions, hidden)."""
        total = h.new_zeros(len(tokens), dtype=torch.float32)
        local = tokens - self.offsets  # each position's tokens counted from its own first
        # unbind and split, not indexing per position: their backward assembles each gradient once,
        # where an index's backward fills a zero copy of the whole tensor for every position.
        heads = zip(self.head.weight.split(self.sizes), self.head.bias.split(self.sizes), strict=True)
        for hidden, target, (weight, bias) in zip(h.unbind(1), local.unbind(1), heads, strict=True):
            total = total + F.cross_entropy(F.linear(hidden, weight, bias).float(), target, reduction="none")
        return total / len(self.sizes)

    def _decode(self, tokens: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Tokens (rows, positions, local to each position) back to an encoded matrix in the encoder's
        block order, written in place: a 1,228-value id's ±1 block is most of the matrix, so it is
        filled once and never copied."""
        out = torch.full((len(tokens), self.n_features), -1.0, device=tokens.device)
        start = 0
        for i, (kind, width) in enumerate(self.blocks):
            token, block = tokens[:, self.block_positions[i]], out[:, start : start + width]
            start += width
            if kind == "onehot":
                block.scatter_(1, token[:, None], 1.0)
            elif kind == "flag":
                block[:, 0] = 2 * token.float() - 1
            else:
                jitter = torch.rand(token.shape, generator=generator, device=token.device)
                u = ((token.float() + jitter) / self.bins).clamp(1e-6, 1 - 1e-6)
                block[:, 0] = torch.special.ndtri(u)
        return out
