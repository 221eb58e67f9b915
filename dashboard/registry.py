"""The views of the dashboard, in menu order: one table used by the app's
navigation, the home page's map of views and the tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.experiment import LandscapeConfig
from core.standardize import StandardizeConfig
from core.training import TrainConfig
from core.views import ActivationsView, CompareView, NormParamsView, TrainingView

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class View:
    file: str  # relative to the repository root
    title: str
    icon: str
    url_path: str
    lesson: str  # one line for the home page: what the view teaches

    @property
    def path(self) -> Path:
        return ROOT / self.file


HOME = View("pages/home.py", "Home", ":material/home:", "",  # the default page lives at /
            "What batch normalization is, in three steps, and where to look next.")

VIEWS: tuple[View, ...] = (
    View("pages/standardization.py", "Standardization", ":material/equalizer:", "standardization",
         "Features on wildly different scales, before and after standardizing; batch norm's three steps on real batches."),
    View("pages/landscape.py", "Loss landscape", ":material/landscape:", "landscape",
         "The article's picture: a long valley for raw features, a round bowl for standardized ones, and the descent paths on each."),
    View("pages/training.py", "Training", ":material/show_chart:", "training",
         "A deep network with and without normalization: loss, accuracy and decision boundary side by side."),
    View("pages/activations.py", "Activations", ":material/stacked_bar_chart:", "activations",
         "Per-layer distributions over training, with and without normalization: bands, histograms down the depth, saturation and gradient norms."),
    View("pages/norm_params.py", "γ and β", ":material/tune:", "gamma-beta",
         "What batch norm learns: γ and β per unit, running statistics, and training mode against evaluation mode."),
)

ALL_VIEWS: tuple[View, ...] = (HOME, *VIEWS)

#: every config whose fields can appear in a link
CONFIG_CLASSES = (LandscapeConfig, StandardizeConfig, TrainConfig, ActivationsView, NormParamsView,
                  CompareView, TrainingView)
