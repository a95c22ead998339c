"""The one exception users see: a one-line message naming the file/column and the fix."""


class SynthgenError(Exception):
    """Bad input or a failed precondition; the CLI prints it as one line and exits 2."""


class GateFailed(SynthgenError):
    """The validation gate failed; the CLI exits 1 so DVC stops before `augment`."""
