"""Generate the "shapes" example data set and train a small Keras CNN on it.

Run from the repository root:

    python examples/make_example.py

Output (all under examples/shapes/, deleted and recreated on every run):

    images/<class>/<class>_NNNN.jpg              calibration / training images
    evaluate/images/<class>/<class>_NNNN.JPEG    held-out evaluation images
    evaluate/labels.json                         {"circle": 0, "square": 1, ...}
    model.h5                                     trained Keras model (HDF5)

Only numpy, Pillow and TensorFlow/Keras are used.  The data is fully
determined by SEED; training is seeded too (bit-exact training across
machines is not guaranteed, but the resulting accuracy is stable).
"""

import json
import math
import random
import shutil
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SEED = 1234
CLASSES = ["circle", "square", "star", "triangle"]  # sorted -> ids 0..3
N_TRAIN_PER_CLASS = 75
N_EVAL_PER_CLASS = 50
MIN_SIDE, MAX_SIDE = 72, 112  # per-image width/height range (pixels)
JPEG_QUALITY = 85
INPUT_SIZE = 64  # model input is INPUT_SIZE x INPUT_SIZE x 3
SUPERSAMPLE = 4  # shapes are drawn at 4x and downscaled for anti-aliasing
EPOCHS = 50
REPEATS = 4  # augmented copies of the training set per epoch
BATCH_SIZE = 32
LEARNING_RATE = 2e-3

OUT_DIR = Path(__file__).resolve().parent / "shapes"


# --------------------------------------------------------------------------
# Image synthesis
# --------------------------------------------------------------------------
def random_color(rng):
    return rng.integers(0, 256, size=3).astype(np.float32)


def make_background(rng, w, h):
    """Linear gradient between two random colours in a random direction."""
    c0, c1 = random_color(rng), random_color(rng)
    angle = rng.uniform(0, 2 * math.pi)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    t = xs / w * math.cos(angle) + ys / h * math.sin(angle)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    bg = c0 + (c1 - c0) * t[..., None]
    return bg, (c0 + c1) / 2


def contrasting_color(rng, ref, min_dist=90.0):
    """A random colour far enough from the background's mean colour that the
    shape stays visible (but low-contrast shapes still occur near the gradient
    ends, which keeps the task from being trivial)."""
    for _ in range(100):
        c = random_color(rng)
        if np.linalg.norm(c - ref) >= min_dist:
            return c
    return 255.0 - ref


def shape_polygon(name, cx, cy, radius, angle):
    """Vertices of a regular polygon / star centred at (cx, cy)."""
    if name == "square":
        n, radii = 4, [radius]
    elif name == "triangle":
        n, radii = 3, [radius]
    elif name == "star":
        n, radii = 5, [radius, radius * 0.45]  # alternating outer / inner
    else:
        raise ValueError(name)
    k = n * len(radii)
    return [
        (cx + radii[i % len(radii)] * math.cos(angle + 2 * math.pi * i / k),
         cy + radii[i % len(radii)] * math.sin(angle + 2 * math.pi * i / k))
        for i in range(k)
    ]


def shape_mask(rng, name, w, h):
    """Anti-aliased float mask in [0, 1] of one randomly placed shape."""
    s = SUPERSAMPLE
    # Shape extent ~30%-80% of the shorter side; "radius" is half of that.
    size = rng.uniform(0.30, 0.80) * min(w, h)
    r = size / 2
    # Random position keeping the shape (mostly) inside the image.
    cx = rng.uniform(r, w - r)
    cy = rng.uniform(r, h - r)
    angle = rng.uniform(0, 2 * math.pi)

    mask = Image.new("L", (w * s, h * s), 0)
    draw = ImageDraw.Draw(mask)
    if name == "circle":
        draw.ellipse([(cx - r) * s, (cy - r) * s, (cx + r) * s, (cy + r) * s], fill=255)
    else:
        pts = [(x * s, y * s) for x, y in shape_polygon(name, cx, cy, r, angle)]
        draw.polygon(pts, fill=255)
    mask = mask.resize((w, h), Image.LANCZOS)
    return np.asarray(mask, np.float32)[..., None] / 255.0


def draw_distractors(rng, img):
    """A few thin random lines so the background is not perfectly clean."""
    draw = ImageDraw.Draw(img)
    w, h = img.size
    for _ in range(rng.integers(0, 4)):
        pts = [(rng.uniform(0, w), rng.uniform(0, h)) for _ in range(2)]
        col = tuple(int(v) for v in random_color(rng))
        draw.line(pts, fill=col, width=int(rng.integers(1, 3)))


def make_image(rng, name):
    w = int(rng.integers(MIN_SIDE, MAX_SIDE + 1))
    h = int(rng.integers(MIN_SIDE, MAX_SIDE + 1))
    bg, bg_mean = make_background(rng, w, h)
    img = Image.fromarray(bg.astype(np.uint8))
    draw_distractors(rng, img)
    bg = np.asarray(img, np.float32)

    # Shape colour gets a mild brightness ramp so it is not a flat fill.
    fg = contrasting_color(rng, bg_mean) * rng.uniform(0.85, 1.0)
    mask = shape_mask(rng, name, w, h)
    out = bg * (1 - mask) + fg * mask

    # Gaussian sensor-like noise, slightly blurred so JPEGs stay small.
    noise = rng.normal(0, rng.uniform(4, 12), size=out.shape).astype(np.float32)
    out = np.clip(out + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(out, "RGB").filter(ImageFilter.GaussianBlur(0.5))


def write_split(rng, root, per_class, ext):
    for name in CLASSES:
        d = root / name
        d.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            img = make_image(rng, name)
            # format= is explicit because ".JPEG" is not mapped by every Pillow.
            img.save(d / f"{name}_{i:04d}{ext}", format="JPEG", quality=JPEG_QUALITY)


# --------------------------------------------------------------------------
# Loading -- must match the harness' preprocessing exactly.
# --------------------------------------------------------------------------
def preprocess(path):
    img = Image.open(path).convert("RGB").resize((INPUT_SIZE, INPUT_SIZE), Image.BILINEAR)
    return np.asarray(img, np.float32) / 255.0


def load_split(root, pattern):
    xs, ys = [], []
    for label, name in enumerate(CLASSES):
        for p in sorted((root / name).glob(pattern)):
            xs.append(preprocess(p))
            ys.append(label)
    return np.stack(xs), np.array(ys, np.int64)


def augment(rng, x):
    """Random label-preserving transforms, drawn afresh every epoch.

    * flips / 90-degree rotations: every class is invariant under them;
    * channel permutation and colour inversion: the shape, not its colour,
      defines the class.  Without these the CNN simply memorises the colours
      of the 300 training images and stays near chance on held-out images.
    """
    out = np.empty_like(x)
    for i, img in enumerate(x):
        img = np.rot90(img, int(rng.integers(4)))
        if rng.random() < 0.5:
            img = img[:, ::-1]
        img = img[..., rng.permutation(3)]
        if rng.random() < 0.5:
            img = 1.0 - img
        out[i] = img
    return out


# --------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------
def build_model(tf):
    L = tf.keras.layers

    def block(x, filters):
        x = L.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        # momentum=0.9: Keras' default 0.999 barely moves the moving statistics
        # during a short training run, which ruins inference-mode accuracy.
        x = L.BatchNormalization(momentum=0.9)(x)
        return L.ReLU()(x)

    inp = L.Input((INPUT_SIZE, INPUT_SIZE, 3), name="input")
    x = L.MaxPooling2D()(block(inp, 16))
    x = L.MaxPooling2D()(block(x, 32))
    x = L.MaxPooling2D()(block(x, 64))
    x = block(x, 64)  # receptive field ~38 px: sees corners and curvature
    # Global max rather than average pooling: "is there a star tip / corner
    # anywhere" is the useful question, and it trained much faster than GAP.
    # Written as a max pool over the whole 8x8 map plus Flatten (the same
    # function): Sony's IMX500 converter has no GlobalMaxPooling2D.
    x = L.MaxPooling2D(pool_size=INPUT_SIZE // 8, name="global_max_pool")(x)
    x = L.Flatten(name="flatten")(x)
    out = L.Dense(len(CLASSES), activation="softmax", name="predictions")(x)
    return tf.keras.Model(inp, out, name="shapes_cnn")


def top1(model, x, y):
    probs = model.predict(x, batch_size=64, verbose=0)  # inference mode
    return float(np.mean(np.argmax(probs, axis=1) == y))


def main():
    t0 = time.time()
    random.seed(SEED)
    np.random.seed(SEED)
    rng = np.random.default_rng(SEED)

    # Start from scratch so stale files from older runs never remain.
    if OUT_DIR.exists():
        shutil.rmtree(OUT_DIR)
    train_dir = OUT_DIR / "images"
    eval_dir = OUT_DIR / "evaluate"
    write_split(rng, train_dir, N_TRAIN_PER_CLASS, ".jpg")
    write_split(rng, eval_dir / "images", N_EVAL_PER_CLASS, ".JPEG")
    labels = {name: i for i, name in enumerate(CLASSES)}
    (eval_dir / "labels.json").write_text(json.dumps(labels))
    print(f"wrote images in {time.time() - t0:.1f}s")

    # Import TF late: data generation does not need it and it is slow to load.
    import tensorflow as tf

    tf.keras.utils.set_random_seed(SEED)

    # Train on the saved JPEGs (not the in-memory images) so the model sees
    # exactly what the harness will feed it, compression artefacts included.
    x_train, y_train = load_split(train_dir, "*.jpg")
    x_eval, y_eval = load_split(eval_dir / "images", "*.JPEG")
    aug_rng = np.random.default_rng(SEED + 1)  # independent of the data rng

    model = build_model(tf)
    steps = EPOCHS * math.ceil(REPEATS * len(x_train) / BATCH_SIZE)
    model.compile(
        # Cosine decay to 0 settles the weights at the end of a short run.
        optimizer=tf.keras.optimizers.Adam(
            tf.keras.optimizers.schedules.CosineDecay(LEARNING_RATE, steps)),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    y_rep = np.tile(y_train, REPEATS)
    for epoch in range(EPOCHS):
        x_rep = augment(aug_rng, np.concatenate([x_train] * REPEATS))
        model.fit(x_rep, y_rep, batch_size=BATCH_SIZE, epochs=epoch + 1,
                  initial_epoch=epoch, shuffle=True, verbose=2)

    model_path = OUT_DIR / "model.h5"
    # No optimizer state: keeps the file small and it is not needed for PTQ.
    model.save(model_path, include_optimizer=False)

    # Report accuracy of the *saved* model, loaded the way the harness does.
    tf.keras.backend.clear_session()
    loaded = tf.keras.models.load_model(model_path, compile=False)
    print(f"train Top-1 (un-augmented): {top1(loaded, x_train, y_train):.4f}")
    print(f"evaluation Top-1: {top1(loaded, x_eval, y_eval):.4f} "
          f"({len(y_eval)} images)")
    print(f"total time {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
