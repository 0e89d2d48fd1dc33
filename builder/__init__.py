"""TED2025 corpus pipeline: crawl -> parse -> align -> clean -> split -> write -> card -> push.

One small module per stage; :mod:`builder.cli` composes them behind the ``ted2025`` command.
"""

__version__ = "0.1.0"
