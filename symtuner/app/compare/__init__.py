"""Compare tuning strategies (symtuner, plain GP, random, TPE) on one task, over several seeds."""

from symtuner.app.compare.paired import PairedDifference, paired_differences
from symtuner.app.compare.results import (
           RunResult,
           StrategySummary,
           TrialPoint,
           default_target,
           load_run,
           summarise,
)
from symtuner.app.compare.runner import Comparison, ComparisonSpec, collect, run_comparison
from symtuner.app.compare.strategies import STRATEGIES, Strategy, parse_seeds, parse_strategies

__all__ = ["Comparison", "ComparisonSpec", "PairedDifference", "RunResult", "STRATEGIES", "Strategy", "StrategySummary", "TrialPoint",
           "collect", "default_target", "load_run", "paired_differences", "parse_seeds", "parse_strategies", "run_comparison",
           "summarise"]
