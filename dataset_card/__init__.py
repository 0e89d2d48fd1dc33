"""The TED2025 dataset card: what the Hugging Face Hub shows for a built corpus.

* :mod:`dataset_card.card`: fills ``template.md`` from the build report and the corpus statistics
  and writes ``OUT/README.md`` (:func:`write_card`);
* :mod:`dataset_card.figures`: the card's PNG figures (matplotlib, Agg);
* :mod:`dataset_card.configs`: the viewer's configs (``all`` and optional pair configs), their
  files and their YAML.
"""

from .card import CARD_NAME, write_card
from .configs import MAX_CONFIGS

__all__ = ["CARD_NAME", "MAX_CONFIGS", "write_card"]
