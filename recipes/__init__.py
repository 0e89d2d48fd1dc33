"""TRL recipes for TED2025: continued pretraining (cpt.py) and instruction tuning (sft.py).

Layout as in alignment-handbook: ``recipes/<model>/{cpt,sft}/config_qlora.yaml`` hold the
experiments, ``recipes/accelerate_configs/`` the hardware, ``recipes/smoke/`` a CPU profile with a
tiny local model. The data code of both recipes is :mod:`recipes.data`.
"""
