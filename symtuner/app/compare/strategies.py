"""The tuning strategies a comparison can run, and parsing of strategy and seed lists."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from symtuner.core.errors import ConfigError


@dataclass(frozen=True)
class Strategy:
    """A named way to tune: which optimizer proposes, and whether the symbolic layer acts."""

    name: str
    optimizer: str
    symbolic: bool
    description: str
    pruner: str = "none"


#: Every strategy, in the order tables and plots show them.
STRATEGIES: dict[str, Strategy] = {
    "symtuner": Strategy("symtuner", "gp", True, "GP-EI Bayesian optimization + symbolic diagnosis and actions"),
    "gp": Strategy("gp", "gp", False, "the same GP-EI Bayesian optimization, no symbolic layer"),
    "random": Strategy("random", "random", False, "random search"),
    "tpe": Strategy("tpe", "tpe", False, "Optuna's TPE sampler (needs optuna)"),
    "tpe-median": Strategy("tpe-median", "tpe", False, "Optuna's TPE sampler + MedianPruner (needs optuna)",
                           pruner="median"),
    "tpe-hyperband": Strategy("tpe-hyperband", "tpe", False,
                              "Optuna's TPE sampler + HyperbandPruner (needs optuna)", pruner="hyperband"),
}

DEFAULT_STRATEGIES = ("symtuner", "gp", "random", "tpe")

#: The strategies of ``compare --suite`` unless --strategies names others.
SUITE_STRATEGIES = ("symtuner", "gp", "tpe-hyperband")

#: Strategies that need optuna.
_OPTUNA = frozenset(name for name, s in STRATEGIES.items() if s.optimizer == "tpe" or s.pruner != "none")


def prunes(name: str) -> bool:
    """Whether the strategy stops trials early with a pruner (it then deserves an equal epoch budget)."""
    return STRATEGIES[name].pruner != "none"


def parse_strategies(text: str) -> tuple[str, ...]:
    """``"symtuner,gp"`` -> ``("symtuner", "gp")``; unknown, repeated or no names are errors."""
    names = [part.strip() for part in str(text).split(",")]
    if not any(names):
        raise ConfigError(f"strategies {text!r} name no strategy; choose from {', '.join(STRATEGIES)}")
    if "" in names:
        raise ConfigError(f"strategies {text!r} contain an empty name")
    unknown = [name for name in names if name not in STRATEGIES]
    if unknown:
        raise ConfigError(f"unknown strategy {', '.join(repr(n) for n in unknown)}; "
                          f"choose from {', '.join(STRATEGIES)}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(f"strategy {', '.join(repr(n) for n in repeated)} is given more than once")
    return tuple(names)


def parse_seeds(text: str) -> tuple[int, ...]:
    """Seeds from a count (``"3"`` -> 0, 1, 2), a list (``"0,4,7"``) or a range (``"2-4"``)."""
    raw = str(text).strip()
    if not raw:
        raise ConfigError("seeds must be a count (3), a list (0,1,2) or a range (0-2), got ''")
    if "," not in raw and "-" not in raw:
        count = _seed_int(raw, text)
        if count < 1:
            raise ConfigError(f"seed count {text!r} must be at least 1")
        return tuple(range(count))
    seeds: list[int] = []
    for part in raw.split(","):
        part = part.strip()
        if "-" in part[1:]:
            low_text, high_text = part.split("-", 1) if not part.startswith("-") else ("", part)
            low, high = _seed_int(low_text, text), _seed_int(high_text, text)
            if low > high:
                raise ConfigError(f"seed range {part!r} in {text!r} runs backwards")
            seeds.extend(range(low, high + 1))
        else:
            seeds.append(_seed_int(part, text))
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise ConfigError(f"seed {', '.join(map(str, repeated))} is given more than once in {text!r}")
    return tuple(seeds)


def _seed_int(part: str, whole: str) -> int:
    try:
        value = int(part.strip())
    except ValueError:
        raise ConfigError(f"seed {part.strip()!r} in {whole!r} is not a non-negative integer") from None
    if value < 0:
        raise ConfigError(f"seed {part.strip()!r} in {whole!r} is not a non-negative integer")
    return value


def check_available(names: tuple[str, ...]) -> None:
    """Fail before anything runs when a strategy's optional dependency is missing."""
    if _OPTUNA & set(names) and importlib.util.find_spec("optuna") is None:
        raise ConfigError("strategies 'tpe', 'tpe-median' and 'tpe-hyperband' need optuna, which is not installed "
                          "(pip install 'symbolic-dnn-tuner[compare]'), or leave them out of --strategies")
