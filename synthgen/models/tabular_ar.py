"""An autoregressive transformer over columns: one token per encoded block, sampled block by block.

Tokens, their loss and their decoding are shared with `tabular_mlp_ar` (models/tokens.py). The class
is the first token, so conditioning is a prefix rather than rejection. Under DP-SGD it is the model
to use: every layer has Opacus per-sample gradients.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from synthgen.models.base import Blocks
from synthgen.models.tokens import TokenConfig, TokenModel, draw_tokens
from synthgen.registry import MODELS


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


class TabularARConfig(TokenConfig):
    width: int = 64
    depth: int = 2
    heads: int = 4
    dropout: float = 0.1


@MODELS.register("tabular_ar")
class TabularAR(TokenModel):
    Config = TabularARConfig
    default_steps = 3000
    supports_dp = True

    def __init__(self, n_features: int, n_classes: int, config: dict[str, Any], blocks: Blocks | None = None) -> None:
        super().__init__(n_features, n_classes, config, blocks)
        cfg = self.config
        # Logits outside a position's own tokens are masked, so each position is its own softmax.
        allowed = torch.full((len(self.sizes), self.vocab), float("-inf"))
        for i in range(len(self.sizes)):
            allowed[i, self._own(i)] = 0.0
        self.register_buffer("allowed", allowed, persistent=False)
        self.token = nn.Embedding(self.vocab + n_classes + 1, cfg.width)  # block tokens, then class tokens
        self.position = nn.Embedding(len(self.sizes) + 1, cfg.width)
        self.layers = nn.ModuleList(_CausalBlock(cfg.width, cfg.heads, cfg.dropout) for _ in range(cfg.depth))
        self.norm = nn.LayerNorm(cfg.width)
        self.head = nn.Linear(cfg.width, self.vocab)

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
        if self.per_example_loss:  # DP-SGD: the head as a module, so Opacus sees each row's gradient
            tokens = self._tokens(x)
            return F.cross_entropy(self._logits(self._prefix(tokens, y)).flatten(0, 1).float(), tokens.flatten())
        return super().loss(x, y)

    def row_losses(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        tokens = self._tokens(x)
        return self._position_row_losses(self._hidden(self._prefix(tokens, y)), tokens)

    def _prefix(self, tokens: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The model's input: the class token, then every column's token but the last (teacher forcing)."""
        return torch.cat([(y + self.vocab)[:, None], tokens[:, :-1]], 1)

    @torch.inference_mode()
    def sample(self, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Block by block with cached keys and values; only the current block's logits are computed."""
        caches = self._empty_caches(len(labels), labels.device)
        token = (labels + self.vocab)[:, None]
        drawn = []
        for position in range(len(self.sizes)):
            local = draw_tokens(self._next_logits(token, position, caches), self.config.temperature, generator)
            drawn.append(local)
            token = (local + self.offsets[position])[:, None]
        return self._decode(torch.stack(drawn, 1), generator)

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
        return self._position_logits(self.norm(h[:, -1]), position)
