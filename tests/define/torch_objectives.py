"""Plain-PyTorch and Lightning objectives for the tests: real (tiny) training on scikit-learn's digits."""

from __future__ import annotations

import torch
from sklearn.datasets import load_digits

from symtuner.torch import mlp, optimizer


def digits(n: int = 600):
    data = load_digits()
    x = torch.tensor(data.data[:n] / 16.0, dtype=torch.float32)
    y = torch.tensor(data.target[:n])
    cut = int(0.75 * n)
    return x[:cut], y[:cut], x[cut:], y[cut:]


X_TRAIN, Y_TRAIN, X_VAL, Y_VAL = digits()


def train_epochs(trial, net, opt, epochs, batch_size=32):
    loss_fn = torch.nn.CrossEntropyLoss()
    val_acc = 0.0
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(X_TRAIN))
        total, correct, seen = 0.0, 0, 0
        for start in range(0, len(order), batch_size):
            index = order[start:start + batch_size]
            if len(index) < 2:
                continue
            opt.zero_grad()
            out = net(X_TRAIN[index])
            loss = loss_fn(out, Y_TRAIN[index])
            loss.backward()
            opt.step()
            total += loss.item() * len(index)
            correct += (out.argmax(1) == Y_TRAIN[index]).sum().item()
            seen += len(index)
        net.eval()
        with torch.no_grad():
            out = net(X_VAL)
            val_loss = loss_fn(out, Y_VAL).item()
            val_acc = (out.argmax(1) == Y_VAL).float().mean().item()
        trial.report(epoch, loss=total / seen, accuracy=correct / seen, val_loss=val_loss, val_accuracy=val_acc)
        if trial.should_stop():
            break
    return val_acc


def slow_sgd(trial):
    """A first guess far too low for SGD: the rules should raise the learning rate's range."""
    torch.manual_seed(trial.seed)
    lr = trial.suggest_float("learning_rate", 1e-6, 1e-5, log=True)
    units = trial.suggest_int("unit_d", 16, 64)
    net = mlp(64, [units], 10, trial.architecture)
    return train_epochs(trial, net, optimizer(net.parameters(), "sgd", lr, trial.architecture), epochs=8)
