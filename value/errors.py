"""Errors raised by the value models."""


class ModelFitError(RuntimeError):
    """A model could not be fitted: degenerate data or a failed optimisation."""
