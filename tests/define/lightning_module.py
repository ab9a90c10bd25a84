"""One small Lightning classifier for the tests (imported only where lightning is installed)."""

from __future__ import annotations

import lightning.pytorch as pl
import torch


class Classifier(pl.LightningModule):
    """``net`` trained with cross-entropy; logs train_loss / train_acc per epoch and val_loss / val_acc."""

    def __init__(self, net: torch.nn.Module, make_optimizer, log_steps: bool = False):
        super().__init__()
        self.net, self.make_optimizer, self.log_steps = net, make_optimizer, log_steps

    def training_step(self, batch, _):
        x, y = batch
        out = self.net(x)
        loss = torch.nn.functional.cross_entropy(out, y)
        self.log("train_loss", loss, on_epoch=True, on_step=self.log_steps)
        self.log("train_acc", (out.argmax(1) == y).float().mean(), on_epoch=True, on_step=False)
        return loss

    def validation_step(self, batch, _):
        x, y = batch
        out = self.net(x)
        self.log("val_loss", torch.nn.functional.cross_entropy(out, y))
        self.log("val_acc", (out.argmax(1) == y).float().mean())

    def configure_optimizers(self):
        return self.make_optimizer(self.parameters())
