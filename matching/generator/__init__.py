"""Synthetic source data from six systems, with a truth file (``ecif generate``).

See docs/generator.md for what is generated, every error and trap kind
and its default rate.
"""

from matching.generator.core import GenerateSummary, generate
from matching.generator.params import GeneratorParams, load_params

__all__ = ["generate", "GenerateSummary", "GeneratorParams", "load_params"]
