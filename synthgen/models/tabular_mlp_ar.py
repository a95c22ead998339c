"""An autoregressive model over columns with one small MLP per column: fast enough to sample on a CPU.

Tokens are `tabular_ar`'s (a category's slot, a missing flag's state, a numeric score's bin). Column
j is predicted from the embeddings of columns 0..j-1, concatenated, through its own hidden layer
(one masked matrix product trains every column at once) and its own head. Sampling costs about
j·embedding·hidden + hidden·tokens multiply-adds for column j, a tenth of the transformer's, with no
attention over a cache: the point of this model is the default's sampling speed.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from synthgen.models.base import Blocks
from synthgen.models.tokens import TokenConfig, TokenModel, draw_tokens
from synthgen.registry import MODELS


class TabularMLPARConfig(TokenConfig):
    embedding: int = 16  # per column: what later columns see of it
    hidden: int = 64  # per column: its own hidden layer
    dropout: float = 0.3  # on the embeddings: small tables overfit within a few hundred steps without it


@MODELS.register("tabular_mlp_ar")
class TabularMLPAR(TokenModel):
    Config = TabularMLPARConfig
    default_steps = 3000

    def __init__(self, n_features: int, n_classes: int, config: dict[str, Any], blocks: Blocks | None = None) -> None:
        super().__init__(n_features, n_classes, config, blocks)
        cfg = self.config
        n, e, h = len(self.sizes), cfg.embedding, cfg.hidden
        # The class is one more embedded input, read by every column: the inputs are the class, then
        # columns 0..n-2 (the last column is read by none).
        self.token = nn.Embedding(self.vocab + n_classes + 1, e)  # block tokens, then class tokens
        self.inner = nn.Parameter(torch.randn(n * e, n * h) / (n * e) ** 0.5)
        self.inner_bias = nn.Parameter(torch.zeros(n * h))
        # Column j's hidden units read only the class and the columns before it.
        mask = torch.zeros(n * e, n * h)
        for j in range(n):
            mask[: (j + 1) * e, j * h : (j + 1) * h] = 1.0
        self.register_buffer("mask", mask, persistent=False)
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(h, self.vocab)

    def _hidden(self, tokens: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Every column's hidden state (rows, columns, hidden) from the class and the earlier columns."""
        inputs = torch.cat([(y + self.vocab)[:, None], tokens[:, :-1]], 1)
        embedded = self.drop(self.token(inputs)).flatten(1)
        pre = torch.addmm(self.inner_bias, embedded, self.inner * self.mask)
        return F.gelu(pre).view(len(tokens), len(self.sizes), self.config.hidden)

    def loss(self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        tokens = self._tokens(x)
        return self._position_loss(self._hidden(tokens, y), tokens)

    @torch.inference_mode()
    def sample(self, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Column by column: each draw is one slice of the masked product, its own head and one uniform."""
        n, e = len(self.sizes), self.config.embedding
        embedded = torch.empty(len(labels), n * e, dtype=self.inner.dtype, device=labels.device)
        embedded[:, :e] = self.token.weight[labels + self.vocab]
        drawn = []
        for j in range(n):
            local = draw_tokens(self._next_logits(embedded, j), self.config.temperature, generator)
            drawn.append(local)
            if j + 1 < n:
                embedded[:, (j + 1) * e : (j + 2) * e] = self.token.weight[local + self.offsets[j]]
        return self._decode(torch.stack(drawn, 1), generator)

    def _next_logits(self, embedded: torch.Tensor, j: int) -> torch.Tensor:
        """Column j's logits from the embedded class and earlier columns (`embedded`'s first (j+1)
        blocks): the slice of the masked product that column j's hidden units read."""
        e, h = self.config.embedding, self.config.hidden
        columns = slice(j * h, (j + 1) * h)
        weight = self.inner[: (j + 1) * e, columns].contiguous()  # a column slice: strided for the matmul
        pre = torch.addmm(self.inner_bias[columns], embedded[:, : (j + 1) * e], weight)
        return self._position_logits(F.gelu(pre), j)
