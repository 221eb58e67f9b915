"""Colour arithmetic for the palette tests: WCAG contrast, CIELAB ΔE, colour-blindness simulation.

WCAG 2.x relative luminance and contrast ratio; CIE 1976 ΔE*ab in CIELAB (D65);
dichromacy simulated with the severity-1.0 matrices of Machado, Oliveira and
Fernandes (2009), "A physiologically-based model for simulation of color
vision deficiency", applied to linear RGB.
"""

from __future__ import annotations

import numpy as np

MACHADO_2009 = {
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
}
_SRGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
_D65 = np.array([0.95047, 1.0, 1.08883])


def linear_rgb(hex_colour: str) -> np.ndarray:
    """'#rrggbb' (or '#rgb') -> linear-light RGB in [0, 1]."""
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    c = np.array([int(h[i:i + 2], 16) for i in (0, 2, 4)]) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def luminance(hex_colour: str) -> float:
    return float(linear_rgb(hex_colour) @ np.array([0.2126, 0.7152, 0.0722]))


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio, 1 to 21."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def lab(rgb_linear: np.ndarray) -> np.ndarray:
    xyz = (_SRGB_TO_XYZ @ rgb_linear) / _D65
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def simulated(hex_colour: str, deficiency: str | None) -> np.ndarray:
    """Linear RGB as seen with ``deficiency`` (None: normal vision)."""
    rgb = linear_rgb(hex_colour)
    return rgb if deficiency is None else np.clip(MACHADO_2009[deficiency] @ rgb, 0.0, 1.0)


def delta_e(a: str, b: str, deficiency: str | None = None) -> float:
    """ΔE*ab between two colours, as seen with ``deficiency``."""
    return float(np.linalg.norm(lab(simulated(a, deficiency)) - lab(simulated(b, deficiency))))
