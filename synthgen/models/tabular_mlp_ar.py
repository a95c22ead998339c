"""An autoregressive model over columns with one small MLP per column: fast enough to sample on a CPU.

Tokens are `tabular_ar`'s (a category's slot, a missing flag's state, a numeric score's bin). Column
j is predicted from the embeddings of columns 0..j-1, concatenated, through its own hidden layer
(one masked matrix product trains every column at once) and its own head. Sampling looks each
earlier token's share of that product up instead of multiplying it out, so column j costs about
j·hidden additions + hidden·tokens multiply-adds per row, with no attention over a cache: the point
of this model is the default's sampling speed.
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
    weight_decay: float | None = None  # None: sized_weight_decay of the training rows
    learning_rate: float | None = None  # None: sized_learning_rate of the training rows


DECAY, DECAY_ROWS = 3.0, 2000
RATE_SMALL, RATE_LARGE = 0.003, 0.001


def _small_table_share(n_rows: int) -> float:
    """1 up to 2,000 training rows, then (2,000 / rows)⁴: how far a fit gets the small-table settings."""
    return min(1.0, (DECAY_ROWS / max(n_rows, 1)) ** 4)


def sized_weight_decay(n_rows: int) -> float:
    """AdamW's decay for a fit on `n_rows` rows: 3 up to 2,000 rows, then falling as (2,000 / rows)⁴.

    Why: measured on the benchmark's tables (benchmarks/RESULTS.md, seventh notes), a decay near 3
    lets the tables of 200-2,000 rows train ten times longer before the held-out loss turns. Without
    the target, mortgages' detection |AUC - 0.5| fell from 0.13 to 0.03 and its train-on-synthetic
    score rose from 0.86 to 0.89 (seeds 0-3); tips' score rose from 0.86 to 0.95 (seeds 0-7). Every
    privacy p-value stayed above the gate's bound. On an 11,000-row table it only cost: at 0.1
    bundesliga trained to the end of its budget and its membership-inference p fell to 0.002-0.005
    (0.007-0.095 without), and at 1 its detection rose to 0.14. The fourth power leaves such tables
    practically undecayed (0.003 at 11,000 rows)."""
    return float(f"{DECAY * _small_table_share(n_rows):.3g}")


def sized_learning_rate(n_rows: int) -> float:
    """AdamW's rate for a fit on `n_rows` rows: 0.003 where the decay is 3, falling to 0.001 as it does.

    Why: the decay makes the small tables train ten times longer; at three times the rate they keep
    their weights after about half the steps (mortgages 170-680 instead of 680-1,380) with the same
    or better fidelity and every privacy p-value above the gate's bound (benchmarks/RESULTS.md,
    seventh notes). Not on the large tables, which the decay leaves alone: at 0.003 bundesliga's
    seed-0 set had DCR-share p 0.0003 and the gate would have stopped it."""
    return float(f"{RATE_LARGE + (RATE_SMALL - RATE_LARGE) * _small_table_share(n_rows):.3g}")


def _sized_optimizer(n_rows: int) -> dict[str, float]:
    """The settings a fit on `n_rows` rows fills in where the config leaves them null."""
    return {"weight_decay": sized_weight_decay(n_rows), "learning_rate": sized_learning_rate(n_rows)}


@MODELS.register("tabular_mlp_ar")
class TabularMLPAR(TokenModel):
    Config = TabularMLPARConfig
    default_steps = 3000

    @classmethod
    def sized_config(cls, config: dict[str, Any], n_rows: int) -> dict[str, Any]:
        config = super().sized_config(config, n_rows)
        return {**config, **{key: value for key, value in _sized_optimizer(n_rows).items() if config.get(key) is None}}

    def __init__(self, n_features: int, n_classes: int, config: dict[str, Any], blocks: Blocks | None = None) -> None:
        super().__init__(n_features, n_classes, config, blocks)
        for key, value in _sized_optimizer(1).items():  # built outside a fit, which sizes them: small-table values
            if getattr(self.config, key) is None:
                setattr(self.config, key, value)
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

    def configure_optimizers(self) -> torch.optim.Optimizer:
        """Decay the weights and embeddings, not the biases: a decayed bias pulls each column's
        marginal towards uniform and caps how sure a column can be of what an earlier one implies
        (a category that a flag fixes came back right 97.6% of the time with every parameter decayed
        at 3, 99.5% with the biases exempt); the gains of the decay on the benchmark stay."""
        trained = [(name, p) for name, p in self.named_parameters() if p.requires_grad]
        groups = [
            {"params": [p for name, p in trained if not name.endswith("bias")]},
            {"params": [p for name, p in trained if name.endswith("bias")], "weight_decay": 0.0},
        ]
        return torch.optim.AdamW(groups, lr=self.config.learning_rate, weight_decay=self.config.weight_decay)

    def _hidden(self, tokens: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Every column's hidden state (rows, columns, hidden) from the class and the earlier columns."""
        inputs = torch.cat([(y + self.vocab)[:, None], tokens[:, :-1]], 1)
        embedded = self.drop(self.token(inputs)).flatten(1)
        pre = torch.addmm(self.inner_bias, embedded, self.inner * self.mask)
        return F.gelu(pre).view(len(tokens), len(self.sizes), self.config.hidden)

    def row_losses(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        tokens = self._tokens(x)
        return self._position_row_losses(self._hidden(tokens, y), tokens)

    @torch.inference_mode()
    def sample(self, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Column by column: each draw sums j+1 looked-up rows (`_contributions`), then its own head
        and one uniform per row."""
        n = len(self.sizes)
        contributions = self._contributions()
        inputs = torch.empty((len(labels), n), dtype=torch.long, device=labels.device)  # rows of `_contributions`
        inputs[:, 0] = labels
        drawn = torch.empty_like(inputs)
        for j in range(n):
            drawn[:, j] = draw_tokens(self._next_logits(inputs, contributions, j), self.config.temperature, generator)
            if j + 1 < n:
                inputs[:, j + 1] = drawn[:, j] + (self.offsets[j] + self.n_classes + 1)
        return self._decode(drawn, generator)

    def _contributions(self) -> torch.Tensor:
        """What each input token adds to each column's hidden pre-activation: its embedding times the
        rows of the masked product its input owns, as (column, token, hidden). Tokens are the class
        tokens, then the vocabulary; column j reads only the class and columns 0..j-1, a prefix of them.
        Summing j+1 looked-up rows per draw (embedding_bag) does the masked product's work at a
        sixteenth of its cost (an embedding's width): a token's product is computed once, not per row."""
        n, e, h = len(self.sizes), self.config.embedding, self.config.hidden
        weight, classes = self.token.weight, self.n_classes + 1
        table = weight.new_zeros(n, classes + self.vocab, h)
        table[:, :classes] = (weight[self.vocab :] @ self.inner[:e]).view(classes, n, h).transpose(0, 1)
        for k in range(n - 1):  # column k is input k+1, read by columns k+1..n-1; the last is read by none
            own = self._own(k)
            product = weight[own] @ self.inner[(k + 1) * e : (k + 2) * e, (k + 1) * h :]
            table[k + 1 :, classes + own.start : classes + own.stop] = product.view(len(product), -1, h).transpose(0, 1)
        return table

    def _next_logits(self, inputs: torch.Tensor, contributions: torch.Tensor, j: int) -> torch.Tensor:
        """Column j's logits: the looked-up shares of the class and columns 0..j-1 (`inputs`' first j+1
        columns, rows of `_contributions`) summed, then its hidden layer and its head."""
        h = self.config.hidden
        rows = self.n_classes + 1 + self._own(j).start  # the class's and columns 0..j-1's tokens
        pre = F.embedding_bag(inputs[:, : j + 1], contributions[j, :rows], mode="sum")
        return self._position_logits(F.gelu(pre.add_(self.inner_bias[j * h : (j + 1) * h])), j)
