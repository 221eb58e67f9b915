"""The views of the dashboard, in menu order: one table used by the app's
navigation, the home page's map of views and the tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.experiment import LandscapeConfig
from core.standardize import StandardizeConfig
from core.sweep import SweepConfig
from core.training import TrainConfig
from dashboard.selections import (
    ActivationsView,
    CompareView,
    CurvesView,
    LandscapeView,
    NormParamsView,
    SweepsView,
    TrainingView,
)

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class View:
    file: str  # relative to the repository root
    title: str
    icon: str
    url_path: str
    lesson: str  # one line for the home page: what the view teaches
    family: str = ""  # views of one family share their settings; "" = the view has none


    @property
    def path(self) -> Path:
        return ROOT / self.file


HOME = View("pages/home.py", "Home", ":material/home:", "",  # the default page lives at /
            "What batch normalization is, in three steps, and where to look next.")

VIEWS: tuple[View, ...] = (
    View("pages/standardization.py", "Standardization", ":material/equalizer:", "standardization",
         "Features on wildly different scales, before and after standardizing; batch norm's three steps on real batches.",
         "standardization"),
    View("pages/landscape.py", "Loss landscape", ":material/landscape:", "landscape",
         "The article's picture: a long valley for raw features, a round bowl for standardized ones, and the descent paths on each.",
         "landscape"),
    View("pages/training.py", "Training", ":material/show_chart:", "training",
         "A deep network with and without normalization: loss, accuracy and decision boundary side by side.",
         "network"),
    View("pages/activations.py", "Activations", ":material/stacked_bar_chart:", "activations",
         "Per-layer distributions over training, with and without normalization: bands, histograms down the depth, saturation and gradient norms.",
         "network"),
    View("pages/norm_params.py", "γ and β", ":material/tune:", "gamma-beta",
         "What batch norm learns: γ and β per unit, running statistics, and training mode against evaluation mode.",
         "network"),
    View("pages/sweeps.py", "Sweeps", ":material/grid_view:", "sweeps",
         "Learning rate, batch size and depth over a grid of runs and seeds: where each network learns, where it breaks.",
         "sweeps"),
    View("pages/why.py", "Why it works", ":material/psychology:", "why",
         "Four explanations of why normalization helps, each measured on this network beside its paper's claim.",
         "network"),
)

ALL_VIEWS: tuple[View, ...] = (HOME, *VIEWS)

#: each family's settings: the config classes whose fields its views set and its links carry. The
#: network views share one configuration (switching between them keeps it); the article's two views
#: each keep their own, so no view changes what another shows.
FAMILIES: dict[str, tuple[type, ...]] = {
    "standardization": (StandardizeConfig,),
    "landscape": (LandscapeConfig, LandscapeView),
    "network": (TrainConfig, CompareView, TrainingView, CurvesView, ActivationsView, NormParamsView),
    "sweeps": (SweepConfig, SweepsView),
}
#: the classes in a family that only choose what to draw (a layer, a step), not what is computed
VIEW_ONLY = (TrainingView, CurvesView, ActivationsView, NormParamsView, LandscapeView, SweepsView)

#: every config whose fields can appear in a link
CONFIG_CLASSES = (LandscapeConfig, StandardizeConfig, TrainConfig, ActivationsView, NormParamsView,
                  CompareView, TrainingView, CurvesView, SweepConfig, SweepsView, LandscapeView)
assert set(CONFIG_CLASSES) == {cls for classes in FAMILIES.values() for cls in classes}


def view_by_path(url_path: str) -> View | None:
    return next((v for v in ALL_VIEWS if v.url_path == url_path), None)


def family_of(url_path: str) -> str:
    """The settings family of the view at ``url_path`` ("" for home or an unknown path)."""
    view = view_by_path(url_path)
    return view.family if view else ""
