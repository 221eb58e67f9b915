"""The network views' shared configuration: one sidebar form, one set of runs.

The Training, Activations, γ/β and Why views all call :func:`sidebar`; its widgets
carry the TrainConfig field names as keys, so the settings live in session
state (kept across page switches) and in every view's URL.

The data section also takes the user's own CSV file (``dashboard.upload``): while one is in use the
config's ``dataset`` is its registered name (``upload:<content hash>``), which no URL carries: the
address keeps the built-in choice, and a link opens on that.
"""

from __future__ import annotations

import streamlit as st

from core.data import DATASET_INFO, UPLOAD_PREFIX
from core.params import specs
from core.training import TrainConfig
from dashboard import upload
from dashboard.selections import CompareView
from dashboard.state import PageState, choice, number, select_slider, slider, toggle

LRS = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
BATCHES = (2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
WIDTHS = (2, 4, 8, 16, 32, 64, 128, 256, 512)
SAMPLES = (100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000)
INIT_SCALES = (0.001, 0.01, 0.03, 0.1, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)

#: a run costs about n_samples * epochs * depth * width^2 multiply-adds per
#: pass; above this budget the dashboard asks for smaller settings instead of
#: keeping a classroom waiting (about 10 s on a 2-core machine)
WORK_BUDGET = 6e10

LABELS = {
    "dataset": "Data set", "n_samples": "Samples", "noise": "Noise", "val_fraction": "Validation share",
    "depth": "Hidden layers (depth)", "width": "Units per layer (width)", "activation": "Activation",
    "norm_position": "Normalization goes", "init": "Initialisation", "init_scale": "Init std (normal)",
    "optimizer": "Optimizer", "lr": "Learning rate", "momentum": "Momentum", "weight_decay": "Weight decay",
    "batch_size": "Batch size", "epochs": "Epochs", "seed": "Random seed", "records": "Snapshots recorded",
    "standardize_inputs": "Standardize the inputs", "bn_momentum": "Batch-norm momentum",
    "groups": "Groups (group norm)",
}
CHOICE_LABELS = {
    "norm_position": {"before": "before the activation (paper)", "after": "after the activation (article)"},
    "init": {"he": "He", "glorot": "Glorot", "normal": "normal(0, std)"},
    "optimizer": {"sgd": "SGD", "momentum": "SGD + momentum", "adam": "Adam"},
}
GROUPS = (1, 2, 4, 8, 16, 32)
OPTIONS = {"lr": LRS, "batch_size": BATCHES, "width": WIDTHS, "n_samples": SAMPLES,
           "init_scale": INIT_SCALES, "groups": GROUPS}


def _fields() -> list[str]:
    """TrainConfig's fields in form order (norm is chosen per run, not here)."""
    order = ["dataset", "n_samples", "noise", "depth", "width", "activation", "norm_position", "groups",
             "init", "init_scale", "optimizer", "lr", "momentum", "weight_decay", "batch_size",
             "epochs", "val_fraction", "seed", "records"]
    table = specs(TrainConfig)
    return [f for f in order if f in table] + [f for f in table if f not in order and f != "norm"]


def _options(name: str):
    """Option list for a field, restricted to its declared range."""
    spec = specs(TrainConfig)[name]
    opts = [v for v in OPTIONS[name] if spec.admits(v)]
    return tuple(opts)


#: the settings an uploaded file replaces (it is the data set; noise shapes only the synthetic ones)
SET_ASIDE = ("dataset", "noise")


def _widget(name: str, mine: bool = False) -> None:
    spec = specs(TrainConfig)[name]
    aside = {"disabled": True, "help": "Set aside while your own file is in use."} \
        if mine and name in SET_ASIDE else {}
    label = LABELS.get(name, name.replace("_", " ").capitalize())
    if spec.kind == "choice":
        labels = CHOICE_LABELS.get(name)
        if name == "dataset":
            from dashboard.drawing import dataset_label

            labels = {n: dataset_label(n) for n in spec.choices if n in DATASET_INFO}
        choice(TrainConfig, name, label, labels=labels, horizontal=name not in ("dataset",), **aside)
    elif spec.kind == "bool":
        toggle(TrainConfig, name, label)
    elif name in OPTIONS:
        select_slider(TrainConfig, name, label, _options(name), format_func=lambda v: f"{v:g}")
    elif name == "seed":
        number(TrainConfig, name, label)
    else:
        slider(TrainConfig, name, label,
               step=None if spec.kind == "int" else (0.05 if (spec.high or 1) <= 1 else 0.1), **aside)


def sidebar(owner: str) -> tuple[PageState, TrainConfig, CompareView]:
    """Render the shared configuration in the sidebar; returns (state, config, view)."""
    state = PageState(owner)
    fields = _fields()
    opts = {f: _options(f) for f in fields if f in OPTIONS}
    with st.sidebar:
        config = state.config(TrainConfig, fields=fields, options=opts)
        view = state.config(CompareView)
        st.header("Compare")
        choice(CompareView, "compare", "No normalization against",
               labels={"batch": "batch norm", "layer": "layer norm", "both": "batch and layer norm",
                       "group": "group norm", "rms": "RMS norm"})
        slider(CompareView, "seeds", "Seeds per run",
               help="Each run is trained with the seed set below, the next one, and so on: different data, "
                    "initial weights and batches. With more than one seed every curve is the median over the "
                    "seeds with a band from the lowest to the highest, and the measured sentences count seeds.")
        st.header("Network and training")
        groups = (
            ("Data", ("dataset", "n_samples", "noise", "val_fraction", "standardize_inputs")),
            ("Network", ("depth", "width", "activation", "norm_position", "bn_momentum", "groups", "init",
                         "init_scale")),
            ("Training", ("optimizer", "lr", "momentum", "weight_decay", "batch_size", "epochs", "seed",
                          "records")),
        )
        placed = set()
        mine = upload.table() is not None
        chosen = None
        for title, names in groups:
            with st.expander(title, expanded=title != "Data" or owner == "training" or mine):
                for name in names:
                    if name == "init_scale" and st.session_state.get("init") != "normal":
                        placed.add(name)  # only the normal initialisation has a std to set
                        continue
                    if name in fields:
                        _widget(name, mine)
                        placed.add(name)
                if title == "Data":  # your own CSV: the one uploader, in the data section
                    chosen = upload.data_section(owner, network=True)
        for name in fields:
            if name not in placed:
                _widget(name)
    if chosen is not None:  # the file's registered name (the URL keeps the built-in choice)
        config = config.replace(dataset=chosen.dataset.name)
        upload.show_notice(chosen, samples=config.n_samples)
    return state, config, view


def cost(config: TrainConfig) -> float:
    """Rough multiply-adds of a run (forward + backward)."""
    width = getattr(config, "width", 32)
    return 3.0 * config.n_samples * config.epochs * (config.depth * width * width + 2 * width)


def check_budget(config: TrainConfig, n_runs: int) -> bool:
    """Show a clear message and return False when the settings are too heavy to train live."""
    work = cost(config) * n_runs
    if work > WORK_BUDGET:
        st.warning(
            f"These settings need about {work / 1e9:,.0f} billion multiply-adds to train "
            f"{n_runs} run(s) — more than this live demo allows ({WORK_BUDGET / 1e9:,.0f} billion). "
            "Lower the samples, epochs, depth or width.",
            icon=":material/hourglass_disabled:",
        )
        return False
    return True


def seeds_of(config: TrainConfig, view: CompareView) -> tuple[int, ...]:
    """The seeds each run is trained with: config.seed, config.seed + 1, ... (``view.seeds`` of them,
    fewer when the last would pass the largest seed)."""
    high = int(specs(TrainConfig)["seed"].high)
    return tuple(s for s in view.seed_list(config.seed) if s <= high)


def page_runs(config: TrainConfig, view: CompareView, *, boundary: bool = False) -> dict | None:
    """The compared runs of a network view, trained or fetched: normalization -> one History per seed
    (``seeds_of``), with the divergence banner (the page draws the export menu last,
    ``drawing.export_view``); None, after a message, when the settings are over the live-demo budget.
    ``boundary``: the first seed's runs have their decision boundary (the Training view draws it)."""
    from dashboard.drawing import diverged_banner
    from dashboard.runs import get_seeded
    from dashboard.teach import measured

    if "group" in view.norms and config.width % config.groups:
        st.warning(f"Group norm splits each layer's {config.width} units into groups of equal size: "
                   f"{config.groups} groups do not divide {config.width}. Choose a number of groups that "
                   "divides the width (Network → Groups).", icon=":material/grid_off:")
        return None
    seeds = seeds_of(config, view)
    if not check_budget(config, len(view.norms) * len(seeds)):
        return None
    runs = get_seeded(config, view.norms, seeds, boundary=boundary)
    if not config.dataset.startswith(UPLOAD_PREFIX):  # a lesson's verdict is measured on its own data only
        measured(runs)
    diverged_banner(runs)
    return runs
