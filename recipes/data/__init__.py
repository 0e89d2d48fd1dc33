"""TED2025 training data for the recipes: continued-pretraining texts in four formats at one token
budget, translation instructions, and the chat template fallback.

All the format-specific data code of :mod:`recipes.cpt` and :mod:`recipes.sft` lives in this
package, so the recipes read like a paragraph and every format is defined in one place. Its names
are imported from here (``from recipes import data``); each is defined in one module:

* :mod:`~recipes.data.corpus`: the corpus to read, its rows and windows;
* :mod:`~recipes.data.formats`: the four continued-pretraining formats, as language blocks;
* :mod:`~recipes.data.budget`: their texts tokenised to fill one token budget, and cached;
* :mod:`~recipes.data.packing`: packing as ``SFTTrainer`` packs, with provenance;
* :mod:`~recipes.data.instructions`: the translation instructions of instruction tuning;
* :mod:`~recipes.data.chat_template`: the chat template fallback.

Rows and windows
----------------
:func:`load_windows` reads a language subset with :func:`ted2025.load_dataset` (``format="wide"``)
and cuts each talk into *windows* of ``talk_window`` consecutive rows. A window's text in language
L joins L's segments; L counts as present only where it is present in every row of the window, so
the blocks of a multiway text are translations of each other as a whole.

Continued-pretraining formats (the paper's comparison)
------------------------------------------------------
* ``multiway``: one text is one window in k languages (default: every language present), each
  block tagged ``[code]``, the block order shuffled per text.
* ``pairwise``: the same, with two languages per text.
* ``unaligned``: the control. Same languages, same token budget, same shape of text as multiway,
  but no text and no packed sequence holds translations of each other: every talk is given to
  one language (:func:`assign_talks`), and a language's blocks come only from its own talks. So a
  segment appears in at most one language anywhere in the data, and no two blocks can align.
* ``monolingual``: one language per text, from the same talk assignment as ``unaligned``, so it
  differs from the control only in mixing languages within a text.

Every format fills the same ``token_budget`` (tokens of the model's tokenizer, tags and EOS
included): texts are taken in random order while they fit, until the budget is met within 0.1 %
or no text fits the gap left (which only matters for budgets of a few texts). A format whose data
runs out more than 0.5 % short of the budget fails, since it could not be compared with the others. Texts longer than the model's ``max_length`` are cut to
it here, so what is counted is what is trained on (TRL's BFD packing would otherwise cut them).

Provenance
----------
Each CPT example carries, per language block, its talk and segment keys (:func:`segment_key`).
:func:`pack` packs exactly as ``SFTTrainer`` does (same shuffle, batches and bins) while keeping
each token's example index, so :func:`shared_segments` can show which packed sequences contain
two blocks of the same segment: none, for the unaligned control.
"""

from builder import languages as registry  # as data.registry: the language registry the data code reads
from recipes.data.budget import (
    BUDGET_SHORTFALL,
    BUDGET_TOLERANCE,
    MAX_CONSECUTIVE_MISSES,
    TOKENIZE_BATCH,
    build_cpt_dataset,
    cpt_dataset,
)
from recipes.data.chat_template import DEFAULT_CHAT_TEMPLATE, DEFAULT_CHAT_TEMPLATE_PATH, ensure_chat_template
from recipes.data.corpus import KEY_COLUMNS, Window, load_windows, segment_key, subset_languages, talk_windows
from recipes.data.formats import (
    FORMATS,
    LANGUAGE_TAG,
    Block,
    BudgetError,
    CPTSettings,
    assign_talks,
    cpt_examples,
    format_blocks,
)
from recipes.data.instructions import (
    MULTI_TARGET_TEMPLATES,
    MULTI_TARGETS,
    TRANSLATION_TEMPLATES,
    SFTSettings,
    build_sft_dataset,
    sft_dataset,
    translation_messages,
)
from recipes.data.packing import pack, packed_examples, packing_efficiency, shared_segments

__all__ = [
    "BUDGET_SHORTFALL", "BUDGET_TOLERANCE", "DEFAULT_CHAT_TEMPLATE", "DEFAULT_CHAT_TEMPLATE_PATH", "FORMATS", "KEY_COLUMNS",
    "LANGUAGE_TAG", "MAX_CONSECUTIVE_MISSES", "MULTI_TARGETS", "MULTI_TARGET_TEMPLATES", "TOKENIZE_BATCH",
    "TRANSLATION_TEMPLATES", "Block", "BudgetError", "CPTSettings", "SFTSettings", "Window", "assign_talks",
    "build_cpt_dataset", "build_sft_dataset", "cpt_dataset", "cpt_examples", "ensure_chat_template", "format_blocks",
    "load_windows", "pack", "packed_examples", "packing_efficiency", "segment_key", "sft_dataset",
    "registry", "shared_segments", "subset_languages", "talk_windows", "translation_messages",
]
