"""Data sets: the :class:`Dataset` record, its checks, and the loaders."""

from symtuner.data.dataset import Dataset, validate_dataset
from symtuner.data.loaders import DATASETS, DatasetInfo, load_dataset

__all__ = ["DATASETS", "Dataset", "DatasetInfo", "load_dataset", "validate_dataset"]
