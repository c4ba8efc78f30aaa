"""Train the PyTorch twin of the example's Keras CNN on the same "shapes" images (run in .venv-torch):

    .venv-torch/bin/python examples/make_pytorch_example.py

Writes examples/shapes/pytorch_model.pt (the state_dict, about 250 KB) and examples/pytorch.json, whose
`pytorch_architecture` builds the same network from data alone (vsq.frameworks.pytorch.architecture:
sequential): four Conv2d -> BatchNorm2d -> ReLU blocks (16, 32, 64, 64 filters), MaxPool2d after the first
three, a max pool over the whole 8x8 map, Flatten, Linear(64, 4) -- the Keras example's layers. Training
uses the same images, preprocessing and augmentations as examples/make_example.py (which made the data).
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_example import CLASSES, INPUT_SIZE, SEED, augment, load_split  # noqa: E402

EPOCHS = 60
REPEATS = 4  # augmented copies of the training set per epoch
BATCH_SIZE = 32
LEARNING_RATE = 2e-3
WEIGHTS = HERE / "shapes" / "pytorch_model.pt"
CONFIG = HERE / "pytorch.json"


def layers() -> list:
    def block(inputs, filters, pool):
        out = [["Conv2d", inputs, filters, 3, {"padding": 1, "bias": False}], ["BatchNorm2d", filters], ["ReLU"]]
        return out + ([["MaxPool2d", 2]] if pool else [])

    return [*block(3, 16, True), *block(16, 32, True), *block(32, 64, True), *block(64, 64, False),
            ["MaxPool2d", INPUT_SIZE // 8], ["Flatten"], ["Linear", 64, len(CLASSES)]]


def main() -> None:
    sys.path.insert(0, str(HERE.parent))
    from vsq.frameworks.pytorch.architecture import sequential

    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    x_train, y_train = load_split(HERE / "shapes" / "images", "*.jpg")
    x_eval, y_eval = load_split(HERE / "shapes" / "evaluate" / "images", "*.JPEG")
    model = sequential(layers())
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, EPOCHS)
    started = time.time()
    for epoch in range(EPOCHS):
        model.train()
        x = torch.from_numpy(augment(rng, np.concatenate([x_train] * REPEATS)).transpose(0, 3, 1, 2).copy())
        y = torch.from_numpy(np.concatenate([y_train] * REPEATS))
        order = torch.randperm(len(x))
        for start in range(0, len(x), BATCH_SIZE):
            pick = order[start:start + BATCH_SIZE]
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x[pick]), y[pick]).backward()
            optimizer.step()
        schedule.step()
        if (epoch + 1) % 10 == 0:
            print(f"epoch {epoch + 1}: eval Top-1 {top1(model, x_eval, y_eval):.4f} ({time.time() - started:.0f} s)")
    torch.save(model.state_dict(), WEIGHTS)
    print(f"eval Top-1 {top1(model, x_eval, y_eval):.4f}; {WEIGHTS} ({WEIGHTS.stat().st_size} bytes)")
    keras_example = json.loads((HERE / "imx500.json").read_text())
    config = {key: keras_example[key] for key in ("dataset_image_dir", "batch_size", "input_tensor_size",
                                                   "iteration_count", "evaluate_image_dir", "evaluate_image_extension",
                                                   "evaluate_label_file")}
    config.update(source_pytorch_model="./shapes/pytorch_model.pt", output_dir="../output/pytorch",
                  evaluate_result_dir="../evaluate/pytorch", name="shapes-pytorch",
                  pytorch_architecture={"entry_point": "vsq.frameworks.pytorch.architecture:sequential",
                                        "arguments": {"layers": layers()}},
                  imx500={"max_memory_utilization": 100, "output": "memory_report"})
    CONFIG.write_text(json.dumps(config, indent=2) + "\n")
    print(f"{CONFIG}")


def top1(model, x: np.ndarray, y: np.ndarray) -> float:
    model.eval()
    with torch.no_grad():
        scores = model(torch.from_numpy(x.transpose(0, 3, 1, 2).copy()))
    return float((scores.argmax(1).numpy() == y).mean())


if __name__ == "__main__":
    main()
