"""The HTML report and DVC plot data written by `validate`."""

from synthgen.reporting.html import write_report

__all__ = ["write_report"]
