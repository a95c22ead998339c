"""Reversible transforms between a table and the numeric matrix models learn from."""

from synthgen.encoding.table import TableEncoder

__all__ = ["TableEncoder"]
