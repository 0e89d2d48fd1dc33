"""Merge a LoRA adapter into its base model, so that a second recipe can train on top of it: SFT on a
continued-pretraining run is SFT of the merged CPT model (``recipes/experiment.py`` runs this
between the two).

```bash
python recipes/merge_adapter.py --adapter runs/qwen2.5-7b-ted2025-cpt --output_dir runs/qwen2.5-7b-cpt-merged
```

The base is loaded unquantized in ``dtype`` (a QLoRA adapter trained on a 4-bit base is merged into
the bf16 weights, as PEFT's ``merge_and_unload`` does), on the CPU unless ``device_map`` says
otherwise: Qwen2.5-7B needs ~16 GB of RAM here, and no GPU. The tokenizer saved beside the adapter
(the recipes save it there) goes with the merged weights, and ``ted2025_merge.json`` records what
was merged. A merge that stops half way is simply run again.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from trl import TrlParser

MERGE_RECORD = "ted2025_merge.json"


@dataclass
class MergeArguments:
    adapter: str = field(metadata={"help": "PEFT adapter folder (a recipe's output_dir)."})
    output_dir: str = field(metadata={"help": "Where the merged model and tokenizer go."})
    model_name_or_path: str | None = field(default=None, metadata={"help": "Base model (default: the adapter's)."})
    dtype: str = field(default="bfloat16", metadata={"help": "Dtype of the merged weights.", "choices": ["bfloat16", "float16", "float32"]})
    device_map: str = field(default="cpu", metadata={"help": "Where to merge: cpu (default), auto or cuda."})
    trust_remote_code: bool = field(default=False, metadata={"help": "Allow custom model code from the Hub."})

    def __post_init__(self):
        if not (Path(self.adapter) / "adapter_config.json").is_file():
            raise FileNotFoundError(f"adapter {self.adapter!r} is not a PEFT adapter folder: it has no adapter_config.json")


def main(args: MergeArguments) -> Path:
    import torch
    from peft import PeftConfig, PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = args.model_name_or_path or PeftConfig.from_pretrained(args.adapter).base_model_name_or_path
    model = AutoModelForCausalLM.from_pretrained(
        base, dtype=getattr(torch, args.dtype), device_map=args.device_map, trust_remote_code=args.trust_remote_code
    )
    merged = PeftModel.from_pretrained(model, args.adapter).merge_and_unload()
    tokenizer_source = args.adapter if (Path(args.adapter) / "tokenizer_config.json").is_file() else base
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_source, trust_remote_code=args.trust_remote_code)

    out = Path(args.output_dir)
    merged.save_pretrained(out)
    tokenizer.save_pretrained(out)
    record = {"base": base, "adapter": args.adapter, "tokenizer": tokenizer_source, "args": asdict(args)}
    (out / MERGE_RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"Merged {args.adapter} into {base}: {out}")
    return out


if __name__ == "__main__":
    (merge_args,) = TrlParser((MergeArguments,)).parse_args_and_config()
    main(merge_args)
