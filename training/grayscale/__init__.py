"""The grayscale (manga) model: colour a shaded grayscale drawing, keeping its lightness.

``screentone`` makes training inputs (gray, or gray with halftone dots or hatching in its tones);
``model`` trains ``inkhue-grayscale`` (a, b from L and hint dabs), exports it and scores it.
"""
