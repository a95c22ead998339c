"""A Gaussian over the encoded table: each class its own means and spreads, one correlation for all.

The table encoder already maps every numeric column onto normal scores through its own quantiles,
so this is a Gaussian copula whose margins are the columns' own; a category's ±1 one-hot block is
drawn as numbers and decoded by its largest. Each class has its own mean and spread per column (a
resting machine's readings vary less than a running one's), and the rows, standardised within
their class, share one covariance (a correlation matrix at the start). That is 2·d·(classes + 1) +
d·(d + 1)/2 numbers, and a small class's means and spreads are shrunk towards everyone's, so none
of them can learn one row: the model for a few hundred rows of many correlated numbers, where a
network's density gathers round the rows it was trained on. Sensor attributes are such a table
(each series' level and spread per channel, and its length), and it is their default model
(README, "Sensor data").

It starts at the maximum-likelihood estimate of the rows it trains on (`start_from`, with that
shrinkage) and trains on with the other models' machinery (Lightning, the best weights on held-out
rows), so any budget gives a fitted model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from synthgen.models.base import Blocks, ModelConfig, TabularModel
from synthgen.registry import MODELS

RIDGE = 1e-4  # added to variances: a column constant within a class stays drawable
SHRINK_ROWS = 5  # a class's spread counts the pooled one as this many rows: one row has no spread of its own


class TabularGaussianConfig(ModelConfig):
    learning_rate: float = 0.003  # it starts at the optimum of the rows it trains on: only small steps
    weight_decay: float = 0.0  # it would pull the means towards zero, not regularise
    # The no-class row is the overall mean and spread: trained on relabelled rows, it would teach the
    # shared covariance the differences between classes, which the class means already hold.
    label_dropout: float = 0.0


@MODELS.register("tabular_gaussian")
class TabularGaussian(TabularModel):
    Config = TabularGaussianConfig
    default_steps = 300

    def __init__(self, n_features: int, n_classes: int, config: dict[str, Any], blocks: Blocks | None = None) -> None:
        super().__init__(n_features, n_classes, config, blocks)
        d = n_features
        self.means = nn.Parameter(torch.zeros(n_classes + 1, d))  # row n_classes: no class
        self.log_scales = nn.Parameter(torch.zeros(n_classes + 1, d))  # each class's own spread per column
        # The covariance's Cholesky factor: its strict lower triangle, and its diagonal as logs.
        self.lower = nn.Parameter(torch.zeros(d, d))
        self.log_diagonal = nn.Parameter(torch.zeros(d))

    def start_from(self, arrays: list[np.ndarray]) -> None:
        """Class means and spreads (the no-class ones over every row), and the correlation of the rows
        standardised within their class. A small class's mean is shrunk towards the overall one as
        far as the classes' means differ no more than chance (empirical Bayes), and its spread
        towards the pooled one: one row is never a class's whole description."""
        x, y = np.asarray(arrays[0], dtype=np.float64), np.asarray(arrays[1])
        overall = x.mean(0) if len(x) else np.zeros(x.shape[1])
        means = np.tile(overall, (self.n_classes + 1, 1))
        classes, counts = np.unique(y, return_counts=True)
        for c in classes:
            means[c] = x[y == c].mean(0)
        pooled = ((x - means[y]) ** 2).mean(0) if len(x) else np.ones(x.shape[1])
        if len(x):
            between = np.average((means[classes] - overall) ** 2, axis=0, weights=counts)
            true_between = np.maximum(between - len(classes) * pooled / len(x), RIDGE)  # less chance's share
            weight = counts[:, None] / (counts[:, None] + pooled / true_between)
            means[classes] = overall + weight * (means[classes] - overall)
        variances = np.tile(x.var(0) if len(x) else pooled, (self.n_classes + 1, 1))
        for c, n in zip(classes, counts, strict=True):
            squares = ((x[y == c] - means[c]) ** 2).sum(0)
            variances[c] = (squares + SHRINK_ROWS * pooled) / (n + SHRINK_ROWS)
        scales = np.sqrt(variances + RIDGE)
        z = (x - means[y]) / scales[y]
        covariance = z.T @ z / max(len(x), 1) + RIDGE * np.eye(x.shape[1])
        cholesky = torch.as_tensor(np.linalg.cholesky(covariance), dtype=self.means.dtype)
        with torch.no_grad():
            self.means.copy_(torch.as_tensor(means))
            self.log_scales.copy_(torch.as_tensor(np.log(scales)))
            self.lower.copy_(torch.tril(cholesky, -1))
            self.log_diagonal.copy_(cholesky.diagonal().log())

    def _cholesky(self) -> torch.Tensor:
        return torch.tril(self.lower, -1) + torch.diag(self.log_diagonal.exp())

    def loss(self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Mean negative log-likelihood per feature (without the constant)."""
        log_scales = self.log_scales[y]
        standardised = (x - self.means[y]) * torch.exp(-log_scales)
        z = torch.linalg.solve_triangular(self._cholesky(), standardised.T, upper=False).T
        nll = 0.5 * z.pow(2).sum(1) + log_scales.sum(1)
        return (nll.mean() + self.log_diagonal.sum()) / max(self.n_features, 1)

    @torch.inference_mode()
    def sample(self, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        noise = torch.randn((len(labels), self.n_features), generator=generator, device=labels.device)
        return self.means[labels] + self.log_scales[labels].exp() * F.linear(noise, self._cholesky())
