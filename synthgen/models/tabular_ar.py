"""An autoregressive transformer over columns: one token per encoded block, sampled block by block.

Tokens come from the shared encoding: a category block's slot, a missing flag's two states, and a
numeric score's bin among `bins` equal-probability bins (the encoder made every numeric standard
normal, so equal bins in Φ(z) hold equal shares of rows). A bin is decoded to a uniform draw inside
it, which the encoder's inverse maps back onto the column's own quantiles and value grid. The class
is the first token, so conditioning is a prefix rather than rejection.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from synthgen.models.base import Blocks, ModelConfig, TabularModel
from synthgen.registry import MODELS

MIN_BINS, MAX_BINS = 16, 64


class _CausalBlock(nn.Module):
    """Pre-norm transformer block; with a cache it attends one new token to every earlier one."""

    def __init__(self, width: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.dropout = dropout
        self.norm_attn = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.norm_ff = nn.LayerNorm(width)
        self.ff = nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width))
        self.drop = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor, cache: dict[str, Any] | None = None) -> torch.Tensor:
        n, length, width = h.shape
        q, k, v = self.qkv(self.norm_attn(h)).view(n, length, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4)
        if cache is not None:  # preallocated (sample fills it position by position): no O(L²) copying
            used = int(cache["used"])
            cache["k"][:, :, used : used + length], cache["v"][:, :, used : used + length] = k, v
            cache["used"] = used + length
            k, v = cache["k"][:, :, : used + length], cache["v"][:, :, : used + length]
        attended = F.scaled_dot_product_attention(
            q, k, v, is_causal=cache is None, dropout_p=self.dropout if self.training else 0.0
        )
        h = h + self.drop(self.proj(attended.transpose(1, 2).reshape(n, length, width)))
        return h + self.drop(self.ff(self.norm_ff(h)))


class TabularARConfig(ModelConfig):
    width: int = 64
    depth: int = 2
    heads: int = 4
    dropout: float = 0.1
    bins: int | None = None  # None: about sqrt(train rows), between 16 and 64 (finer bins overfit small tables)
    temperature: float = 1.0


@MODELS.register("tabular_ar")
class TabularAR(TabularModel):
    Config = TabularARConfig
    default_steps = 3000
    supports_dp = True

    @classmethod
    def sized_config(cls, config: dict[str, Any], n_rows: int) -> dict[str, Any]:
        if config.get("bins") is None:
            config = {**config, "bins": int(np.clip(round(np.sqrt(n_rows)), MIN_BINS, MAX_BINS))}
        return config

    def __init__(self, n_features: int, n_classes: int, config: dict[str, Any], blocks: Blocks | None = None) -> None:
        super().__init__(n_features, n_classes, config, blocks)
        cfg = self.config
        self.bins = cfg.bins or MAX_BINS
        sizes = [self.bins if kind == "value" else 2 if kind == "flag" else width for kind, width in self.blocks]
        offsets = torch.tensor([0, *sizes]).cumsum(0)
        self.register_buffer("offsets", offsets[:-1], persistent=False)
        vocab = int(offsets[-1])
        # Logits outside a position's own tokens are masked, so each position is its own softmax.
        allowed = torch.full((len(sizes), vocab), float("-inf"))
        for i, size in enumerate(sizes):
            allowed[i, offsets[i] : offsets[i] + size] = 0.0
        self.register_buffer("allowed", allowed, persistent=False)
        self.token = nn.Embedding(vocab + n_classes + 1, cfg.width)  # block tokens, then class tokens
        self.position = nn.Embedding(len(sizes) + 1, cfg.width)
        self.layers = nn.ModuleList(_CausalBlock(cfg.width, cfg.heads, cfg.dropout) for _ in range(cfg.depth))
        self.norm = nn.LayerNorm(cfg.width)
        self.head = nn.Linear(cfg.width, vocab)
        self.sizes = sizes
        self.vocab = vocab

    def _tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Encoded rows to per-block tokens, each offset into the shared vocabulary."""
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
        return torch.stack(cols, 1) + self.offsets

    def _hidden(self, prefix: torch.Tensor) -> torch.Tensor:
        """The normalised last-layer state at every prefix position (the class token comes first)."""
        # Positions through the Embedding module (not a slice of its weight), so Opacus's hooks see
        # each row's use of it and DP-SGD gets per-sample gradients.
        positions = torch.arange(prefix.shape[1], device=prefix.device).expand(prefix.shape[0], -1)
        h = self.token(prefix) + self.position(positions)
        for layer in self.layers:
            h = layer(h)
        return self.norm(h)

    def _logits(self, prefix: torch.Tensor) -> torch.Tensor:
        """Next-token logits over the whole vocabulary at every prefix position, others' tokens masked."""
        return self.head(self._hidden(prefix)) + self.allowed[: prefix.shape[1]]

    def loss(self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        tokens = self._tokens(x)
        prefix = torch.cat([(y + self.vocab)[:, None], tokens[:, :-1]], 1)
        if self.per_example_loss:  # DP-SGD: the head as a module, so Opacus sees each row's gradient
            return F.cross_entropy(self._logits(prefix).flatten(0, 1).float(), tokens.flatten())
        # Each position against its own tokens only: a 1,228-value column no longer makes every other
        # position pay for a vocabulary-wide softmax (the same loss, about Σ sizes / (positions x vocab)
        # of the work).
        h = self._hidden(prefix)
        total = h.new_zeros((), dtype=torch.float32)
        for position, size in enumerate(self.sizes):
            own = slice(int(self.offsets[position]), int(self.offsets[position]) + size)
            logits = F.linear(h[:, position], self.head.weight[own], self.head.bias[own]).float()
            total = total + F.cross_entropy(logits, tokens[:, position] - own.start, reduction="sum")
        return total / tokens.numel()

    @torch.inference_mode()
    def sample(self, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Block by block with cached keys and values; only the current block's logits are computed."""
        caches = self._empty_caches(len(labels), labels.device)
        token = (labels + self.vocab)[:, None]
        drawn = []
        for position in range(len(self.sizes)):
            logits = self._next_logits(token, position, caches).float() / self.config.temperature
            local = torch.multinomial(F.softmax(logits, 1), 1, generator=generator)
            drawn.append(local)
            token = local + self.offsets[position]
        return self._decode(torch.cat(drawn, 1), generator)

    def _empty_caches(self, n: int, device: torch.device) -> list[dict[str, Any]]:
        """One key/value buffer per layer for `n` rows and every position, filled as sampling goes."""
        shape = (n, self.config.heads, len(self.sizes), self.config.width // self.config.heads)
        dtype = self.token.weight.dtype
        empty = [torch.empty(shape, dtype=dtype, device=device) for _ in range(2 * len(self.layers))]
        return [{"k": k, "v": v, "used": 0} for k, v in zip(empty[::2], empty[1::2], strict=True)]

    def _next_logits(self, token: torch.Tensor, position: int, caches: list[dict[str, Any]]) -> torch.Tensor:
        """Logits over block `position`'s own tokens, given the previous token and the cached prefix."""
        h = self.token(token) + self.position.weight[position]
        for layer, cache in zip(self.layers, caches, strict=True):
            h = layer(h, cache)
        own = slice(int(self.offsets[position]), int(self.offsets[position]) + self.sizes[position])
        return F.linear(self.norm(h[:, -1]), self.head.weight[own], self.head.bias[own])

    def _decode(self, tokens: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        parts = []
        for i, (kind, width) in enumerate(self.blocks):
            token = tokens[:, i]
            if kind == "onehot":
                parts.append(2 * F.one_hot(token, width).float() - 1)
            elif kind == "flag":
                parts.append((2 * token.float() - 1)[:, None])
            else:
                jitter = torch.rand(token.shape, generator=generator, device=token.device)
                u = ((token.float() + jitter) / self.bins).clamp(1e-6, 1 - 1e-6)
                parts.append(torch.special.ndtri(u)[:, None])
        return torch.cat(parts, 1)
