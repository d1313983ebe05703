"""Inkhue training: data, line and hint synthesis, the two GAN stages, evaluation, export."""
