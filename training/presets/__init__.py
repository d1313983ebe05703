"""The papers behind Inkhue as training presets: ``spec`` (the TOML presets and their registry),
``inputs`` / ``targets`` / ``nets`` (registries of planes, predicted spaces and generators),
``loop`` (one arm for a time budget), ``run`` and ``report`` (``inkhue-train preset`` and
``reproduce``), ``measure`` (PSNR, ΔE00 and each paper's own metric).
"""
