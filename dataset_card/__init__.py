"""The TED2025 dataset card: what the Hugging Face Hub shows for a built corpus.

* :mod:`dataset_card.card`: fills ``template.md`` from the build report and the corpus statistics
  and writes ``OUT/README.md`` (:func:`write_card`);
* :mod:`dataset_card.figures`: the card's PNG figures (matplotlib, Agg);
* :mod:`dataset_card.configs`: the viewer's configs (``all`` and the pair configs that
  :mod:`builder.pairs` wrote), their files and their YAML.

The card writes no data: it renders what is on disk.
"""

from builder.contract import MAX_CONFIGS

from .card import CARD_NAME, write_card

__all__ = ["CARD_NAME", "MAX_CONFIGS", "write_card"]
