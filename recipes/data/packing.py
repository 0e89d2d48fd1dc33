"""Packing with provenance: sequences packed exactly as ``SFTTrainer`` packs them, each token keeping
the row it came from, so that the segments two blocks of one packed sequence share can be found."""

from __future__ import annotations

import datasets


def pack(dataset: datasets.Dataset, max_length: int, strategy: str = "bfd", shuffle_seed: int | None = None) -> datasets.Dataset:
    """Pack ``input_ids`` as ``SFTTrainer`` does (``shuffle_dataset`` -> ``shuffle_seed``), keeping
    ``example_index`` per token: the row of ``dataset`` each packed token came from."""
    from trl import pack_dataset

    indexed = dataset.select_columns(["input_ids"]).map(
        lambda batch, indices: {"example_index": [[i] * len(ids) for i, ids in zip(indices, batch["input_ids"])]},
        batched=True,
        with_indices=True,
    )
    if shuffle_seed is not None:
        indexed = indexed.shuffle(seed=shuffle_seed)
    return pack_dataset(indexed, max_length, strategy)


def packed_examples(packed_row: dict) -> list[int]:
    """The dataset rows packed into one sequence, in order."""
    starts, offset = [], 0
    for length in packed_row["seq_lengths"]:
        starts.append(packed_row["example_index"][offset])
        offset += length
    return starts


def shared_segments(packed: datasets.Dataset, dataset: datasets.Dataset) -> list[tuple[int, int]]:
    """(packed row, segment key) for each segment that two language blocks of one packed sequence share."""
    block_keys = dataset["block_segment_keys"]
    found = []
    for row, packed_row in enumerate(packed):
        seen: set[int] = set()
        for example in packed_examples(packed_row):
            for keys in block_keys[example]:
                found.extend((row, key) for key in seen.intersection(keys))
                seen.update(keys)
    return found


def packing_efficiency(packed: datasets.Dataset, max_length: int) -> float:
    """Share of the packed rows' ``max_length`` slots that hold tokens (1 - padding fraction)."""
    tokens = sum(sum(lengths) for lengths in packed["seq_lengths"])
    return tokens / (len(packed) * max_length)
