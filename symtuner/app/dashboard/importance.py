"""Which hyper-parameters explain the objective across the completed trials.

A random forest (scikit-learn) learns the objective from the trials'
hyper-parameters; an HP's importance is how much the forest's fit (R²) falls
when that HP's values are shuffled among the trials (permutation importance).
Shuffling whole HPs, not encoded columns, keeps a categorical HP one entry,
and unlike the forest's own impurity importances it does not favour HPs with
many distinct values. scikit-learn is a core dependency, so every install
gives the same numbers for the same study.

The search space may have changed during the study: an HP added or removed
later is missing for some trials. Missing numbers are filled with the median
plus a "was missing" column, missing categories become a category of their
own, so having the HP at all can explain the objective too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symtuner.core.records import Trial
from symtuner.core.space import Categorical
from symtuner.storage import TuningVersion

#: Fewer completed trials than this give a message instead of importances: a forest on fewer says nothing.
MIN_TRIALS = 5

_MISSING = "n/a"


@dataclass(frozen=True)
class Importance:
    """Permutation importances of the HPs, most important first, or why there are none."""

    names: tuple[str, ...] = ()
    #: Mean fall of R² when the HP is shuffled, and its standard deviation over the repeats.
    scores: tuple[float, ...] = ()
    spreads: tuple[float, ...] = ()
    n_trials: int = 0
    #: HPs that took a single value in every completed trial (nothing to learn from them).
    constant: tuple[str, ...] = ()
    #: Why nothing was computed; empty when ``names`` holds the result.
    message: str = ""


def param_importance(trials: Sequence[Trial], versions: Sequence[TuningVersion] = (), *,
                     min_trials: int = MIN_TRIALS, seed: int = 0, repeats: int = 10) -> Importance:
    """The HP importances over the complete trials that have a finite objective."""
    scored = [t for t in trials if t.is_complete and _finite(t.objective)]
    if len(scored) < min_trials:
        return Importance(n_trials=len(scored), message=(
            f"Parameter importance needs at least {min_trials} completed trials; "
            f"{len(scored)} so far."))
    y = np.array([float(t.objective) for t in scored])  # type: ignore[arg-type]
    if np.ptp(y) == 0:
        return Importance(n_trials=len(scored), message=(
            f"Every completed trial has the same objective ({y[0]:.4g}): no hyper-parameter explains it."))
    names = param_names(scored, versions)
    categorical = _categorical(scored, versions, names)
    columns = {name: [t.params.get(name) for t in scored] for name in names}
    constant = tuple(n for n in names if len({_key(v) for v in columns[n]}) < 2)
    varying = [n for n in names if n not in constant]
    if not varying:
        return Importance(n_trials=len(scored), constant=constant,
                          message="No hyper-parameter took more than one value in the completed trials.")
    x = np.empty((len(scored), len(varying)), dtype=object)
    for index, name in enumerate(varying):
        x[:, index] = [_cell(v, name in categorical) for v in columns[name]]
    model = _model([i for i, n in enumerate(varying) if n in categorical],
                   [i for i, n in enumerate(varying) if n not in categorical], seed)
    from sklearn import config_context

    with config_context(assume_finite=True):  # NaN marks a missing HP on purpose
        model.fit(x, y)
        means, spreads = _permutation_importance(model, x, y, repeats, seed)
    order = sorted(range(len(varying)), key=lambda i: (-means[i], varying[i]))
    return Importance(names=tuple(varying[i] for i in order), scores=tuple(float(means[i]) for i in order),
                      spreads=tuple(float(spreads[i]) for i in order), n_trials=len(scored), constant=constant)


def _permutation_importance(model: Any, x: Any, y: Any, repeats: int, seed: int) -> tuple[Any, Any]:
    """Mean and standard deviation, per column of ``x``, of the fall of R² when that column is shuffled.

    What sklearn.inspection.permutation_importance computes, with every
    shuffled copy scored in one predict call: it calls the forest once per
    column and repeat, and a forest's per-call overhead made that 1.5 s for
    ten HPs, on every refresh of the page, where this takes a tenth of it.
    """
    from sklearn.metrics import r2_score

    rng = np.random.default_rng(seed)
    n, columns = x.shape
    baseline = r2_score(y, model.predict(x))
    copies = np.tile(x, (columns * repeats, 1))
    for block in range(columns * repeats):
        rows = slice(block * n, (block + 1) * n)
        copies[rows, block // repeats] = x[rng.permutation(n), block // repeats]
    scores = [r2_score(y, part) for part in np.split(model.predict(copies), columns * repeats)]
    falls = baseline - np.array(scores).reshape(columns, repeats)
    return falls.mean(axis=1), falls.std(axis=1)


def _model(categorical: list[int], numeric: list[int], seed: int) -> Any:
    """Encoding (numbers as floats with missing ones marked, categories one-hot) and a random forest."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

    parts: list[tuple[str, Any, list[int]]] = []
    if numeric:
        parts.append(("numeric", make_pipeline(FunctionTransformer(_as_float),
                                               SimpleImputer(strategy="median", add_indicator=True)), numeric))
    if categorical:
        parts.append(("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical))
    forest = RandomForestRegressor(n_estimators=64, random_state=seed, n_jobs=1)
    return make_pipeline(ColumnTransformer(parts), forest)


def _as_float(x: Any) -> Any:
    return np.asarray(x, dtype=float)


def param_names(trials: Sequence[Trial], versions: Sequence[TuningVersion]) -> list[str]:
    """Every HP name of every space version and trial, in first-seen order."""
    names: list[str] = []
    for version in versions:
        names += [n for n in version.space.names if n not in names]
    for trial in trials:
        names += [n for n in trial.params if n not in names]
    return names


def _categorical(trials: Sequence[Trial], versions: Sequence[TuningVersion], names: list[str]) -> set[str]:
    """HPs declared categorical in any version, or with a value that is not a number."""
    out = {d.name for v in versions for d in v.space.dimensions if isinstance(d, Categorical)}
    for name in names:
        if any(not _number(t.params[name]) for t in trials if t.params.get(name) is not None):
            out.add(name)
    return out & set(names)


def _cell(value: Any, categorical: bool) -> Any:
    if categorical:
        return _MISSING if value is None else str(value)
    return float(value) if _number(value) else math.nan


def _key(value: Any) -> str:
    return _MISSING if value is None else repr(value)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    return _number(value) and math.isfinite(value)


__all__ = ["MIN_TRIALS", "Importance", "param_importance"]
