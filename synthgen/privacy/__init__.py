"""Differential privacy for what a model learns from the data outside its weights: the mechanisms
(mechanisms.py) and the ledger that adds up what each spends (ledger.py). DP-SGD for the weights
lives with the training (synthgen/training/private.py)."""

from synthgen.privacy.ledger import Ledger, PrivateFit, default_delta

__all__ = ["Ledger", "PrivateFit", "default_delta"]
