"""Training through Lightning: budget, rank-aware batches, resumable checkpoints and progress."""

from synthgen.training.checkpoints import resumable
from synthgen.training.fit import Budget, Trained, budget_for, fit_model, precision

__all__ = ["Budget", "Trained", "budget_for", "fit_model", "precision", "resumable"]
