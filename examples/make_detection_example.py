"""Generate the "detection" example: drawn shapes with COCO annotations, and a tiny Keras SSD-style detector.

Run from the repository root:

    python examples/make_detection_example.py            # data + training (a few CPU minutes)
    python examples/make_detection_example.py --measure  # mAP of the float, fake-quant and INT8 TFLite models
    python examples/make_detection_example.py --measure --imx500 full  # and the IMX500 converter's figures
    python examples/make_detection_example.py --pytorch  # the same detector in PyTorch (needs .venv-torch)

Output (under examples/detection/, deleted and recreated on every run without --measure):

    images/calib_NNNN.jpg               calibration images (unannotated)
    evaluate/images/eval_NNNN.jpg       evaluation images
    evaluate/annotations.json           COCO: images, annotations (bbox [x, y, w, h] pixels), categories 1..4
    model.h5                            the detector (HDF5), ending in edge-mdt-cl's SSDPostProcess
    pytorch_detector.pt                 (--pytorch) model.h5's weights in pytorch_detector.py's ShapesSSD, which
                                        ends in edge-mdt-cl's MulticlassNMS: the PyTorch detector's state_dict

The model's contract: input float32 (1, 64, 64, 3) NHWC RGB, pixel / 255, the image stretched to 64 x 64
(bilinear, aspect ratio not kept). Outputs, in this order: boxes (1, 16, 4) as (y_min, x_min, y_max, x_max)
normalised to 0..1, scores (1, 16), classes (1, 16) 0-based (COCO category_id = class + 1), count (1,) valid
detections. The images and annotations are byte-reproducible (seeded numpy and Pillow only); training is seeded
but not bit-exact across machines. Training images are made in memory and never written.
"""

import argparse
import io
import json
import math
import shutil
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_example import CLASSES, contrasting_color, draw_distractors, make_background, shape_polygon  # noqa: E402

SEED = 2035
N_EVAL, N_CALIB, N_TRAIN = 200, 64, 3000
MIN_SIDE, MAX_SIDE = 96, 128  # image width and height, pixels
MIN_SHAPE, MAX_SHAPE = 0.16, 0.5  # shape diameter as a fraction of the image's shorter side
MAX_SHAPES = 4
JPEG_QUALITY = 80
SUPERSAMPLE = 3
INPUT_SIZE = 64
MAX_DETECTIONS = 16
SCORE_THRESHOLD, IOU_THRESHOLD = 0.05, 0.5
SCALE_FACTORS = (10.0, 10.0, 5.0, 5.0)  # SSD's box coding (y, x, h, w)
# (feature map side, anchor sides as fractions of the input): small objects on the 8x8 map, large on 4x4.
ANCHOR_LEVELS = ((8, (0.16, 0.26)), (4, (0.4, 0.6)))
EPOCHS, BATCH_SIZE, LEARNING_RATE = 24, 32, 3e-3

OUT_DIR = Path(__file__).resolve().parent / "detection"


# --------------------------------------------------------------------------
# Images and annotations
# --------------------------------------------------------------------------
def textured_background(rng, w, h):
    """A gradient with low-frequency blotches and a few lines, so that flat regions are rare."""
    bg, mean = make_background(rng, w, h)
    blotches = rng.normal(0, 1, size=(4, 4, 3)).astype(np.float32)
    blotches = np.asarray(Image.fromarray(((blotches * 40) + 128).clip(0, 255).astype(np.uint8)).resize(
        (w, h), Image.BICUBIC), np.float32) - 128
    img = Image.fromarray(np.clip(bg + blotches * rng.uniform(0.3, 1.0), 0, 255).astype(np.uint8))
    draw_distractors(rng, img)
    return np.asarray(img, np.float32), mean


def iou_xywh(a, b):
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def shape_mask(rng, name, w, h, taken):
    """An anti-aliased mask of one shape not overlapping the boxes in `taken` much, with its tight box
    [x, y, w, h] (pixels, from the mask itself); None when no free place was found."""
    s = SUPERSAMPLE
    for _ in range(20):
        r = rng.uniform(MIN_SHAPE, MAX_SHAPE) * min(w, h) / 2
        cx, cy = rng.uniform(r, w - r), rng.uniform(r, h - r)
        if all(iou_xywh((cx - r, cy - r, 2 * r, 2 * r), box) < 0.1 for box in taken):
            break
    else:
        return None
    mask = Image.new("L", (w * s, h * s), 0)
    draw = ImageDraw.Draw(mask)
    if name == "circle":
        draw.ellipse([(cx - r) * s, (cy - r) * s, (cx + r) * s, (cy + r) * s], fill=255)
    else:
        draw.polygon([(x * s, y * s) for x, y in shape_polygon(name, cx, cy, r, rng.uniform(0, 2 * math.pi))],
                     fill=255)
    mask = np.asarray(mask.resize((w, h), Image.LANCZOS), np.float32) / 255.0
    ys, xs = np.nonzero(mask >= 0.5)
    box = [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)]
    return mask[..., None], box


def make_image(rng):
    """One JPEG (bytes) with 1..MAX_SHAPES shapes, and its objects as (class index, [x, y, w, h])."""
    w, h = (int(v) for v in rng.integers(MIN_SIDE, MAX_SIDE + 1, size=2))
    out, mean = textured_background(rng, w, h)
    objects = []
    for _ in range(int(rng.integers(1, MAX_SHAPES + 1))):
        label = int(rng.integers(len(CLASSES)))
        found = shape_mask(rng, CLASSES[label], w, h, [box for _, box in objects])
        if found is None:
            continue
        mask, box = found
        colour = contrasting_color(rng, mean) * rng.uniform(0.85, 1.0)
        out = out * (1 - mask) + colour * mask
        objects.append((label, box))
    out = out + rng.normal(0, rng.uniform(3, 10), size=out.shape).astype(np.float32)
    image = Image.fromarray(np.clip(out, 0, 255).astype(np.uint8), "RGB").filter(ImageFilter.GaussianBlur(0.5))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue(), (w, h), objects


def write_split(rng, folder, prefix, count, coco=None):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        data, (w, h), objects = make_image(rng)
        name = f"{prefix}_{i:04d}.jpg"
        (folder / name).write_bytes(data)
        if coco is not None:
            image_id = i + 1
            coco["images"].append({"id": image_id, "file_name": name, "width": w, "height": h})
            for label, box in objects:
                coco["annotations"].append({"id": len(coco["annotations"]) + 1, "image_id": image_id,
                                            "category_id": label + 1, "bbox": box, "area": box[2] * box[3],
                                            "iscrowd": 0})


# --------------------------------------------------------------------------
# Model input, anchors and training targets
# --------------------------------------------------------------------------
def preprocess(data):
    """JPEG bytes -> the model's input (64, 64, 3) float32: stretched (bilinear), pixel / 255."""
    image = Image.open(io.BytesIO(data)).convert("RGB").resize((INPUT_SIZE, INPUT_SIZE), Image.BILINEAR)
    return np.asarray(image, np.float32) / 255.0


def anchors():
    """(n, 4) anchors (y_min, x_min, y_max, x_max) normalised, in the order the model's heads emit them."""
    rows = []
    for side, sizes in ANCHOR_LEVELS:
        for i in range(side):
            for j in range(side):
                cy, cx = (i + 0.5) / side, (j + 0.5) / side
                rows += [[cy - s / 2, cx - s / 2, cy + s / 2, cx + s / 2] for s in sizes]
    return np.array(rows, np.float32)


def normalised_boxes(objects, w, h):
    """COCO [x, y, w, h] pixel boxes -> (n, 4) yxyx normalised to the image (so to the stretched input)."""
    return np.array([[y / h, x / w, (y + bh) / h, (x + bw) / w] for _, (x, y, bw, bh) in objects], np.float32)


def iou_matrix(a, b):
    """IoU of every yxyx box in a (n, 4) with every one in b (m, 4)."""
    tl, br = np.maximum(a[:, None, :2], b[None, :, :2]), np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(br - tl, 0, None), axis=2)
    area = lambda x: (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter)


def encode(boxes, anchor):
    """SSD's codes (y_center, x_center, h, w) of yxyx boxes relative to their anchors, times SCALE_FACTORS:
    the inverse of edge-mdt-cl's FasterRCNNBoxDecode."""
    ah, aw = anchor[:, 2] - anchor[:, 0], anchor[:, 3] - anchor[:, 1]
    ay, ax = anchor[:, 0] + ah / 2, anchor[:, 1] + aw / 2
    bh, bw = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    by, bx = boxes[:, 0] + bh / 2, boxes[:, 1] + bw / 2
    codes = np.stack([(by - ay) / ah, (bx - ax) / aw, np.log(bh / ah), np.log(bw / aw)], axis=1)
    return (codes * np.array(SCALE_FACTORS, np.float32)).astype(np.float32)


def targets(objects, w, h, anchor):
    """Per anchor: class target (-1 ignored, 0 background, 1.. class + 1) and box codes. An anchor is positive at
    IoU >= 0.5 with an object, or as the best anchor of an object; ignored between 0.35 and 0.5."""
    labels = np.zeros(len(anchor), np.int32)
    codes = np.zeros((len(anchor), 4), np.float32)
    if not objects:
        return labels, codes
    boxes = normalised_boxes(objects, w, h)
    iou = iou_matrix(anchor, boxes)
    best, best_iou = iou.argmax(axis=1), iou.max(axis=1)
    best_iou[iou.argmax(axis=0)] = 1.0
    best[iou.argmax(axis=0)] = np.arange(len(boxes))
    classes = np.array([label for label, _ in objects]) + 1
    labels = np.where(best_iou >= 0.5, classes[best], np.where(best_iou >= 0.35, -1, 0)).astype(np.int32)
    return labels, encode(boxes[best], anchor)


# --------------------------------------------------------------------------
# Model and training
# --------------------------------------------------------------------------
def build_model(tf, with_post_process=True):
    from edgemdt_cl.keras import SSDPostProcess, ScoreConverter

    L = tf.keras.layers

    def block(x, filters, name):
        x = L.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
        x = L.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)  # Keras' 0.999 is too slow for short runs
        return L.ReLU(name=f"{name}_relu")(x)

    inp = L.Input((INPUT_SIZE, INPUT_SIZE, 3), name="input")
    x = L.MaxPooling2D(name="pool1")(block(inp, 16, "b1"))
    x = L.MaxPooling2D(name="pool2")(block(x, 32, "b2"))
    x = L.MaxPooling2D(name="pool3")(block(x, 48, "b3"))
    fine = block(x, 64, "b4")  # 8x8
    coarse = block(L.MaxPooling2D(name="pool4")(fine), 64, "b5")  # 4x4
    codes, logits = [], []
    for feature, (side, sizes) in zip((fine, coarse), ANCHOR_LEVELS):
        n = len(sizes)
        c = L.Conv2D(4 * n, 3, padding="same", name=f"codes_{side}")(feature)
        s = L.Conv2D(len(CLASSES) * n, 3, padding="same", name=f"logits_{side}")(feature)
        codes.append(L.Reshape((side * side * n, 4), name=f"codes_{side}_flat")(c))
        logits.append(L.Reshape((side * side * n, len(CLASSES)), name=f"logits_{side}_flat")(s))
    codes = L.Concatenate(axis=1, name="rel_codes")(codes)
    logits = L.Concatenate(axis=1, name="logits")(logits)
    if not with_post_process:
        return tf.keras.Model(inp, [codes, logits], name="shapes_ssd_train")
    outputs = SSDPostProcess(anchors().tolist(), SCALE_FACTORS, (1, 1), ScoreConverter.SIGMOID, SCORE_THRESHOLD,
                             IOU_THRESHOLD, MAX_DETECTIONS, remove_background=False, name="ssd_post_process")(
        [codes, logits])
    return tf.keras.Model(inp, list(outputs), name="shapes_ssd")


def loss_fn(tf):
    """Sigmoid focal loss on classes plus Huber loss on positive anchors' codes, per positive anchor."""
    def loss(labels, codes_target, codes, logits):
        positive = tf.cast(labels > 0, tf.float32)
        valid = tf.cast(labels >= 0, tf.float32)
        npos = tf.maximum(tf.reduce_sum(positive), 1.0)
        onehot = tf.one_hot(labels - 1, len(CLASSES))  # background and ignored: all zero
        p = tf.sigmoid(logits)
        ce = tf.nn.sigmoid_cross_entropy_with_logits(onehot, logits)
        pt = onehot * p + (1 - onehot) * (1 - p)
        alpha = onehot * 0.25 + (1 - onehot) * 0.75
        focal = tf.reduce_sum(alpha * (1 - pt) ** 2 * ce, axis=-1) * valid
        huber = tf.reduce_sum(tf.keras.losses.Huber(reduction="none")(codes_target[..., None],
                                                                     codes[..., None]), axis=-1)
        return (tf.reduce_sum(focal) + tf.reduce_sum(huber * positive)) / npos
    return loss


def train(tf, rng):
    anchor = anchors()
    xs, labels, codes = [], [], []
    for _ in range(N_TRAIN):
        data, (w, h), objects = make_image(rng)
        xs.append(preprocess(data))
        label, code = targets(objects, w, h, anchor)
        labels.append(label)
        codes.append(code)
    xs, labels, codes = np.stack(xs), np.stack(labels), np.stack(codes)
    print(f"training images: {len(xs)}, positive anchors per image {np.mean(np.sum(labels > 0, 1)):.1f}")
    model = build_model(tf, with_post_process=False)
    steps_per_epoch = len(xs) // BATCH_SIZE
    optimizer = tf.keras.optimizers.Adam(tf.keras.optimizers.schedules.CosineDecay(
        LEARNING_RATE, EPOCHS * steps_per_epoch))
    loss = loss_fn(tf)

    @tf.function
    def step(x, label, code):
        with tf.GradientTape() as tape:
            pred_codes, pred_logits = model(x, training=True)
            value = loss(label, code, pred_codes, pred_logits)
        optimizer.apply_gradients(zip(tape.gradient(value, model.trainable_variables), model.trainable_variables))
        return value

    aug = np.random.default_rng(SEED + 1)
    for epoch in range(EPOCHS):
        order = aug.permutation(len(xs))
        total = 0.0
        for k in range(steps_per_epoch):
            idx = order[k * BATCH_SIZE:(k + 1) * BATCH_SIZE]
            x = xs[idx][..., aug.permutation(3)]  # the shape, not its colour, is the class
            if aug.random() < 0.5:
                x = 1.0 - x
            total += float(step(tf.constant(x), tf.constant(labels[idx]), tf.constant(codes[idx])))
        print(f"epoch {epoch + 1}/{EPOCHS} loss {total / steps_per_epoch:.3f}", flush=True)
    detector = build_model(tf)
    for layer in model.layers:  # the same layers, now followed by the post-processing
        if layer.weights:
            detector.get_layer(layer.name).set_weights(layer.get_weights())
    return detector


# --------------------------------------------------------------------------
# Measuring (--measure): pycocotools on the float, MCT fake-quant and INT8 TFLite models
# --------------------------------------------------------------------------
def coco_detections(outputs, image):
    """One image's model outputs (boxes, scores, classes, count; batch of one) -> COCO results in pixels."""
    boxes, scores, classes, count = (np.asarray(o)[0] for o in outputs)
    w, h = image["width"], image["height"]
    found = []
    for k in range(int(count)):
        y0, x0, y1, x1 = (float(v) for v in boxes[k])
        found.append({"image_id": image["id"], "category_id": int(classes[k]) + 1, "score": float(scores[k]),
                      "bbox": [x0 * w, y0 * h, (x1 - x0) * w, (y1 - y0) * h]})
    return found


def coco_map(annotations_path, detections):
    """(mAP@[.5:.95], mAP@.5) from pycocotools for the detections (COCO results list)."""
    import contextlib

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        truth = COCO(str(annotations_path))
        result = truth.loadRes(detections) if detections else None
        if result is None:
            return 0.0, 0.0
        evaluation = COCOeval(truth, result, "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return float(evaluation.stats[0]), float(evaluation.stats[1])


def measure(imx500_output=None):
    import tempfile

    import tensorflow as tf

    sys.path.insert(0, str(OUT_DIR.parent.parent))
    from vsq.frameworks.keras.detector import DetectorPredictor, export_network_int8_tflite
    from vsq.frameworks.keras.models import layers_scope
    from vsq.frameworks.keras.quantize import ptq

    annotations = OUT_DIR / "evaluate" / "annotations.json"
    coco = json.loads(annotations.read_text())
    images = coco["images"]
    inputs = [preprocess((OUT_DIR / "evaluate" / "images" / im["file_name"]).read_bytes()) for im in images]
    calib = [preprocess(p.read_bytes()) for p in sorted((OUT_DIR / "images").glob("*.jpg"))]
    with layers_scope():  # the file this script wrote (its one custom layer: SSDPostProcess)
        model = tf.keras.models.load_model(str(OUT_DIR / "model.h5"), compile=False)
    t0 = time.time()
    fake_quant = ptq(model, lambda: iter([[np.stack(calib[i:i + 16])] for i in range(0, 64, 16)]), "imx500")
    print(f"MCT PTQ {time.time() - t0:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.time()
        tflite = export_network_int8_tflite(fake_quant, Path(tmp) / "model_quantized.tflite")
        print(f"INT8 TFLite export (network without post-processing) {time.time() - t0:.1f} s, "
              f"{tflite.stat().st_size:,} bytes")
        predictors = {"float Keras": DetectorPredictor.keras(model), "MCT fake-quant": DetectorPredictor.keras(
            fake_quant), "INT8 TFLite": DetectorPredictor.tflite(tflite, fake_quant)}
        for name, predictor in predictors.items():
            t0 = time.time()
            found = [d for x, im in zip(inputs, images) for d in coco_detections(predictor(x[None]), im)]
            m, m50 = coco_map(annotations, found)
            print(f"{name}: mAP@[.5:.95] {m:.3f}  mAP@.5 {m50:.3f}  ({len(images)} images, {time.time() - t0:.1f} s)")
        if imx500_output is not None:
            convert_for_imx500(fake_quant, Path(tmp), imx500_output)


def convert_for_imx500(fake_quant, folder: Path, output: str):
    """Sony's converter (.venv-imx500) on MCT's Keras export of the whole detector; prints its figures."""
    from vsq.frameworks.keras.quantize import export_keras
    from vsq.tools import imx500

    converter = imx500.find_converter(None, OUT_DIR.parent.parent)
    problem = imx500.missing_requirements(converter)
    if problem:
        raise SystemExit(problem)
    keras_file = export_keras(fake_quant, folder / "model_quantized.keras")
    result = imx500.convert(converter, keras_file, folder / "imx500", output == "memory_report", folder / "imx500.log")
    print(f"IMX500 converter {result.converter_version} ({output}): exit {result.exit_code}, fits {result.fits}, "
          f"{result.memory_usage_bytes:,} of {result.memory_available_bytes:,} bytes ({result.utilization_percent} %), "
          f"{result.seconds:.1f} s; files {', '.join(result.files)}")


# --------------------------------------------------------------------------
# The PyTorch detector (--pytorch): the same weights in examples/detection/pytorch_detector.py's ShapesSSD
# --------------------------------------------------------------------------
BLOCKS = ("b1", "b2", "b3", "b4", "b5")
HEADS = tuple((f"{kind}_{side}", f"{kind}.{level}") for kind in ("codes", "logits")
              for level, (side, _) in enumerate(ANCHOR_LEVELS))  # Keras layer -> ShapesSSD module


def keras_weights(out: Path) -> None:
    """model.h5's weights by PyTorch state_dict name (convolutions OIHW; Keras' are HWIO), and the Keras model's
    outputs on the evaluation images (keras_*), in an .npz file."""
    import tensorflow as tf

    from edgemdt_cl.keras import SSDPostProcess

    model = tf.keras.models.load_model(OUT_DIR / "model.h5", compile=False,
                                       custom_objects={"SSDPostProcess": SSDPostProcess})
    arrays = {}
    for name in BLOCKS:
        arrays[f"{name}.0.weight"] = model.get_layer(f"{name}_conv").get_weights()[0].transpose(3, 2, 0, 1)
        gamma, beta, mean, variance = model.get_layer(f"{name}_bn").get_weights()
        arrays.update({f"{name}.1.weight": gamma, f"{name}.1.bias": beta, f"{name}.1.running_mean": mean,
                       f"{name}.1.running_var": variance})
    for keras_name, torch_name in HEADS:
        kernel, bias = model.get_layer(keras_name).get_weights()
        arrays.update({f"{torch_name}.weight": kernel.transpose(3, 2, 0, 1), f"{torch_name}.bias": bias})
    images = json.loads((OUT_DIR / "evaluate" / "annotations.json").read_text())["images"]
    inputs = np.stack([preprocess((OUT_DIR / "evaluate" / "images" / image["file_name"]).read_bytes())
                       for image in images])
    outputs = model.predict(inputs, batch_size=50, verbose=0)
    arrays.update({f"keras_{name}": np.asarray(value) for name, value in zip(("boxes", "scores", "classes", "count"),
                                                                             outputs)})
    np.savez(out, inputs=inputs, **arrays)


def pytorch_detector(weights: Path) -> None:
    """(In .venv-torch) pytorch_detector.pt from keras_weights' file; prints how far the PyTorch detector's outputs
    and mAP are from the Keras model's on the evaluation images."""
    import importlib.util

    import torch

    spec = importlib.util.spec_from_file_location("pytorch_detector", OUT_DIR / "pytorch_detector.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.ShapesSSD().eval()
    data = np.load(weights)
    state = model.state_dict()
    for name in state:
        if name.endswith("num_batches_tracked"):
            continue
        if tuple(state[name].shape) != data[name].shape:
            raise SystemExit(f"{name}: {data[name].shape} from Keras, {tuple(state[name].shape)} in ShapesSSD")
        state[name] = torch.from_numpy(np.ascontiguousarray(data[name]))
    model.load_state_dict(state)
    torch.save(model.state_dict(), OUT_DIR / "pytorch_detector.pt")
    with torch.no_grad():
        found = model(torch.from_numpy(np.ascontiguousarray(data["inputs"].transpose(0, 3, 1, 2))))
    boxes, scores, labels, count = (value.numpy() for value in found)
    count = count.reshape(-1)
    same = count == data["keras_count"]
    print(f"wrote {OUT_DIR / 'pytorch_detector.pt'} ({(OUT_DIR / 'pytorch_detector.pt').stat().st_size:,} bytes); "
          f"detections per image equal to Keras' on {same.sum()} of {len(same)} images; largest difference there: "
          f"box corner {np.abs(boxes - data['keras_boxes'])[same].max():.2g}, score "
          f"{np.abs(scores - data['keras_scores'])[same].max():.2g}")
    coco = json.loads((OUT_DIR / "evaluate" / "annotations.json").read_text())
    annotations = OUT_DIR / "evaluate" / "annotations.json"
    for name, outputs in (("Keras", [data[f"keras_{k}"] for k in ("boxes", "scores", "classes", "count")]),
                          ("PyTorch", [boxes, scores, labels, count])):
        found = [d for n, image in enumerate(coco["images"])
                 for d in coco_detections([value[n:n + 1] for value in outputs], image)]
        m, m50 = coco_map(annotations, found)
        print(f"{name} float: mAP@[.5:.95] {m:.4f}  mAP@.5 {m50:.4f}")


def make_pytorch() -> None:
    """keras_weights in this venv, then pytorch_detector in .venv-torch (PyTorch is kept out of the main venv)."""
    import subprocess
    import tempfile

    python = OUT_DIR.parent.parent / ".venv-torch" / "bin" / "python"
    if not python.is_file():
        raise SystemExit(f"{python} is missing; make it with: bash scripts/setup_pytorch.sh")
    with tempfile.TemporaryDirectory() as tmp:
        keras_weights(Path(tmp) / "keras.npz")
        subprocess.run([str(python), __file__, "--pytorch-from", str(Path(tmp) / "keras.npz")], check=True)


def write_data(out_dir: Path) -> int:
    """The evaluation images with annotations.json and the calibration images under out_dir (the same bytes on
    every run); returns the number of objects."""
    rng = np.random.default_rng(SEED)
    coco = {"images": [], "annotations": [],
            "categories": [{"id": i + 1, "name": name} for i, name in enumerate(CLASSES)]}
    write_split(rng, out_dir / "evaluate" / "images", "eval", N_EVAL, coco)
    (out_dir / "evaluate" / "annotations.json").write_text(json.dumps(coco, indent=1) + "\n")
    write_split(rng, out_dir / "images", "calib", N_CALIB)
    return len(coco["annotations"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--measure", action="store_true", help="print the mAP of the float, MCT fake-quant and "
                        "INT8 TFLite models on the committed example instead of making it (default: make it)")
    parser.add_argument("--imx500", choices=("memory_report", "full"), help="with --measure: also run Sony's IMX500 "
                        "converter on MCT's Keras export of the detector (default: not run)")
    parser.add_argument("--pytorch", action="store_true", help="write detection/pytorch_detector.pt: model.h5's "
                        "weights in the PyTorch detector (pytorch_detector.py), through .venv-torch (default: not)")
    parser.add_argument("--pytorch-from", type=Path, help=argparse.SUPPRESS)  # the --pytorch step in .venv-torch
    args = parser.parse_args()
    if args.pytorch:
        return make_pytorch()
    if args.pytorch_from:
        return pytorch_detector(args.pytorch_from)
    if args.measure:
        return measure(args.imx500)
    t0 = time.time()
    if OUT_DIR.exists():
        shutil.rmtree(OUT_DIR)
    objects = write_data(OUT_DIR)
    print(f"wrote {N_EVAL} + {N_CALIB} images, {objects} objects in {time.time() - t0:.1f} s")

    import tensorflow as tf

    tf.keras.utils.set_random_seed(SEED)
    t1 = time.time()
    detector = train(tf, np.random.default_rng(SEED + 2))
    detector.save(OUT_DIR / "model.h5", include_optimizer=False)
    print(f"trained in {time.time() - t1:.1f} s; total {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
