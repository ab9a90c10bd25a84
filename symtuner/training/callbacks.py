"""The Keras callbacks of a trial: early stopping, TensorBoard, the user's own, and the epoch hook."""

from __future__ import annotations

from typing import Any

from symtuner.core.contract import EpochCallback, TrialSpec
from symtuner.core.errors import ConfigError
from symtuner.training.compiling import DATA_LOSS, data_losses
from symtuner.training.config import TrainingConfig


def trial_callbacks(spec: TrialSpec, config: TrainingConfig, on_epoch: EpochCallback | None,
                    user: list[Any] | None = None) -> list[Any]:
    """A trial's callbacks: early stopping, TerminateOnNaN, TensorBoard, the user's (``user``, made from
    ``config.callbacks`` when None), the epoch hook."""
    import keras

    callbacks: list[Any] = [
        keras.callbacks.EarlyStopping(monitor=f"val_{DATA_LOSS}", mode="min", patience=config.patience,
                                      restore_best_weights=True),
        keras.callbacks.TerminateOnNaN(),
    ]
    if config.tensorboard and spec.log_dir is not None:  # epoch scalars and the HParams, under every backend
        from symtuner.training.tblog import tensorboard_callbacks

        callbacks += tensorboard_callbacks(spec.log_dir, spec.params, spec.architecture.features())
    callbacks += user_callbacks(config.callbacks) if user is None else user
    if on_epoch is not None:
        callbacks.append(_epoch_hook(on_epoch))
    return callbacks


def user_callbacks(given: Any) -> list[Any]:
    """The user's Keras callbacks for one trial, checked (see ``TrainingConfig.callbacks``).

    They run after symtuner's own (early stopping on the validation loss,
    TerminateOnNaN, TensorBoard) and before the hook that records each epoch,
    so the logs they add to are recorded. A callback that stops the training
    leaves a shorter curve, which is diagnosed as it is.
    """
    import keras

    if given is None:
        return []
    if isinstance(given, str):
        from symtuner.core.plugins import load_callable

        given = load_callable(given, "callbacks function")
    what = "the callbacks"
    if callable(given) and not isinstance(given, keras.callbacks.Callback):
        what = f"the callbacks function {getattr(given, '__qualname__', given)!r}"
        given = _call_user_function(given, what)
    items = [given] if isinstance(given, keras.callbacks.Callback) else given
    if not isinstance(items, (list, tuple)):
        raise ConfigError(f"{what} must give a list of keras.callbacks.Callback objects, got {items!r:.80}")
    for item in items:
        if not isinstance(item, keras.callbacks.Callback):
            raise ConfigError(f"{what} gave {item!r:.80} ({type(item).__name__}), which is not a "
                              "keras.callbacks.Callback")
    return list(items)


def _call_user_function(function: Any, what: str) -> Any:
    """``function()``, the user's callbacks function: one that needs arguments or raises is the user's
    error (ConfigError naming it), not symtuner's."""
    import inspect

    try:
        needed = [p.name for p in inspect.signature(function).parameters.values()
                  if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    except (TypeError, ValueError):  # no signature to read (a builtin): calling it tells
        needed = []
    if needed:
        raise ConfigError(f"{what} needs argument(s) {', '.join(needed)}; it is called with none and must "
                          "return a list of keras.callbacks.Callback objects")
    try:
        return function()
    except Exception as exc:
        raise ConfigError(f"{what} raised {type(exc).__name__}: {' '.join(str(exc).split())[:300]}") from None


def raised_by_user_callback(exc: BaseException, callbacks: list[Any]) -> Any:
    """The user's callback (one of ``callbacks``) whose method raised ``exc`` during training, or None.

    Told from the traceback: a frame whose ``self`` is that callback, so a failure of the user's code
    is reported as theirs whatever Keras wraps around it.
    """
    mine = {id(c): c for c in callbacks}
    tb = exc.__traceback__
    while tb is not None:
        owner = tb.tb_frame.f_locals.get("self")
        if id(owner) in mine and mine[id(owner)] is owner:
            return owner
        tb = tb.tb_next
    return None


def _epoch_hook_class() -> Any:
    import keras

    class EpochHook(keras.callbacks.Callback):
        """Passes every epoch's logs on; stops the training when the receiver gives a reason."""

        def __init__(self, on_epoch: EpochCallback) -> None:
            super().__init__()
            self.on_epoch = on_epoch
            self.stopped = ""
            self.error: Exception | None = None

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            try:
                reason = self.on_epoch(int(epoch), data_losses({k: float(v) for k, v in (logs or {}).items()}))
            except Exception as exc:  # the receiver's own failure (the store): not the trial's
                self.error = exc
                raise
            if reason:
                self.stopped = str(reason)
                self.model.stop_training = True

    return EpochHook


def _epoch_hook(on_epoch: EpochCallback) -> Any:
    """The Keras callback that feeds ``on_epoch`` (its class is built on first use: Keras loads lazily)."""
    return _epoch_hook_class()(on_epoch)
