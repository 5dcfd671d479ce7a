#!/usr/bin/env python3
"""PyTorch half of bench/cnn.sh: the CNN that Kiln's FashionMnistCnn example trains (two blocks
of 3x3 convolution, ReLU and 2x2 max pooling, 32 then 64 channels, a dense head of 128 with
dropout 0.3; Adam(1e-3)), timed as pytorch_mlp.py times the MLP: training loop only, data
already in memory, reshuffled every epoch. --hidden is accepted and ignored.
"""
from pytorch_mlp import main, nn


def cnn(args):
    model = nn.Sequential(
        nn.Unflatten(1, (1, 28)),  # [n, 28, 28] -> [n, 1, 28, 28], as Kiln's Reshape(1, 28, 28)
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10))
    return model, "cnn=FashionMnistCnn"


if __name__ == "__main__":
    main(cnn, __doc__)
