"""The test data of recipes/eval.py, all read before any model loads: translation sets of the
TED2025 test split and of a local FLORES-200 folder (its layout, and how FLORES codes map to the
registry, are in recipes/eval.py's docstring), and the multi-way segments of the alignment probe.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from builder import languages as registry

if TYPE_CHECKING:
    from recipes.eval_args import EvalScriptArguments

TED_TESTSET = "ted2025"
FLORES_TESTSET = "flores200"


@dataclass
class TranslationSet:
    testset: str
    source: str
    target: str
    ids: list[str]
    sources: list[str]
    references: list[str]
    available: int  # segments with both languages, before max_segments

    @property
    def direction(self) -> str:
        return f"{self.source}-{self.target}"


def load_test_rows(corpus: str, split: str, codes: list[str]) -> dict[str, list]:
    """Wide rows of a split with at least one of ``codes``; a language the corpus lacks raises here."""
    import ted2025

    rows = ted2025.load_dataset(corpus, languages=codes, split=split, min_languages=1, format="wide")
    return rows.select_columns(["talk_id", "segment_id", *codes]).to_dict()


def sample_indices(count: int, limit: int | None, seed: int) -> list[int]:
    """At most ``limit`` of ``range(count)``, a seeded sample kept in order."""
    if limit is None or limit >= count:
        return list(range(count))
    return sorted(random.Random(seed).sample(range(count), limit))


def ted_translation_sets(corpus: str, script_args: EvalScriptArguments, seed: int) -> list[TranslationSet]:
    pairs = script_args.direction_pairs()
    if not pairs:
        return []
    codes = list(dict.fromkeys(code for pair in pairs for code in pair))
    rows = load_test_rows(corpus, script_args.dataset_test_split, codes)
    sets = []
    for source, target in pairs:
        both = [i for i, (a, b) in enumerate(zip(rows[source], rows[target])) if a and b]
        if not both:
            raise ValueError(f"no {script_args.dataset_test_split} rows of {corpus} have both {source} and {target}")
        chosen = [both[i] for i in sample_indices(len(both), script_args.max_segments, seed)]
        sets.append(TranslationSet(
            TED_TESTSET, source, target,
            ids=[f"{rows['talk_id'][i]}/{rows['segment_id'][i]}" for i in chosen],
            sources=[rows[source][i] for i in chosen],
            references=[rows[target][i] for i in chosen],
            available=len(both),
        ))
    return sets


def flores_language(flores_code: str) -> str | None:
    """The registry code of a FLORES-200 code such as ``deu_Latn``, or None (see recipes/eval.py's docstring)."""
    iso639_3, _, script = flores_code.partition("_")
    matches = [lang for lang in registry.LANGUAGES if lang.iso639_3 == iso639_3 and lang.script == script]
    if not matches and registry.is_known(iso639_3) and registry.get(iso639_3).script == script:
        matches = [registry.get(iso639_3)]  # an individual-language alias: arb -> ar, pes -> fa
    return matches[0].code if matches else None  # registry order: the most translated first


def flores_files(flores_dir: Path, split: str) -> dict[str, Path]:
    """Registry code -> FLORES file of that split, for the files whose code maps to the registry."""
    folder = flores_dir / split
    if not folder.is_dir():
        raise FileNotFoundError(f"no FLORES-200 split folder {folder}: flores_dir must hold dev/ and devtest/")
    files = {}
    for path in sorted(folder.glob(f"*.{split}")):
        code = flores_language(path.name.removesuffix(f".{split}"))
        if code is not None:
            files.setdefault(code, path)
    return files


def flores_translation_sets(
    flores_dir: Path, split: str, pairs: list[tuple[str, str]], limit: int | None, seed: int
) -> list[TranslationSet]:
    files = flores_files(flores_dir, split)
    missing = sorted({code for pair in pairs for code in pair} - set(files))
    if missing:
        raise FileNotFoundError(
            f"{flores_dir / split} has no file for {', '.join(missing)} (FLORES code = ISO 639-3 + script, e.g. "
            f"{_flores_example(missing[0])}); it has {', '.join(sorted(files)) or 'no registry language'}"
        )
    lines = {code: files[code].read_text(encoding="utf-8").splitlines() for code in {c for p in pairs for c in p}}
    sizes = {code: len(text) for code, text in lines.items()}
    if len(set(sizes.values())) > 1:
        raise ValueError(f"FLORES files of {flores_dir / split} differ in length: {sizes}")
    sets = []
    for source, target in pairs:
        chosen = sample_indices(sizes[source], limit, seed)
        sets.append(TranslationSet(
            FLORES_TESTSET, source, target, ids=[str(i) for i in chosen],
            sources=[lines[source][i] for i in chosen], references=[lines[target][i] for i in chosen],
            available=sizes[source],
        ))
    return sets


def _flores_example(code: str) -> str:
    lang = registry.get(code)
    return f"{lang.iso639_3}_{lang.script}.devtest"


def probe_segments(corpus: str, script_args: EvalScriptArguments, seed: int) -> dict[str, list[str]]:
    """Multi-way test segments: language -> texts, row i of every language the same segment.

    Rows with all probe languages, without rows whose text in some language repeats an earlier
    row's ("Thank you."), since a duplicate has two right answers in retrieval.
    """
    codes = script_args.probe_codes()
    rows = load_test_rows(corpus, script_args.dataset_test_split, codes)
    seen = {code: set() for code in codes}
    usable = []
    for i in range(len(rows["talk_id"])):
        texts = [rows[code][i] for code in codes]
        if all(texts) and not any(text in seen[code] for code, text in zip(codes, texts)):
            usable.append(i)
            for code, text in zip(codes, texts):
                seen[code].add(text)
    if len(usable) < 2:
        raise ValueError(
            f"the probe needs multi-way rows: {len(usable)} {script_args.dataset_test_split} rows have all of {', '.join(codes)}"
        )
    chosen = [usable[i] for i in sample_indices(len(usable), script_args.probe_segments, seed)]
    return {code: [rows[code][i] for i in chosen] for code in codes}

