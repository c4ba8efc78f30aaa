"""Hostile files for the tests of vsq's trust boundary (tests/test_hostile_*.py), each made by hand the way an
attacker would make it: no Keras, no vsq code writes them (SavedModel metadata is encoded here, field by field,
from TensorFlow's .proto files), so the tests do not share vsq's own reading of the formats.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path


def program(path: Path, ran: Path) -> Path:
    """An executable shell script that records that it ran (creates `ran`), whatever its arguments."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho \"$@\" >> {ran}\necho imxconv-tf 0.0.1\n")
    path.chmod(0o755)
    return path


FAKE_CONVERTER = """#!/bin/sh
# A stand-in for imxconv-tf: writes the memory report and dnnParams.xml the real one writes.
if [ "$1" = "--version" ]; then echo "imxconv-tf 0.0.1"; exit 0; fi
while [ $# -gt 0 ]; do case "$1" in -o) out="$2"; shift;; esac; shift; done
mkdir -p "$out"
echo "2026-11-23 09:26:37,894 INFO : Converted successfully"
cat > "$out/model_MemoryReport.json" <<'JSON'
{"Memory Report": {"Runtime Memory Physical Size": "87424B", "Model Memory Physical Size": "8544B",
 "Memory Usage": "96992B", "Total Memory Available On Chip": "8388480B", "Memory Utilization": "2%",
 "Fit In Chip": true}}
JSON
cat > "$out/dnnParams.xml" <<'XML'
<dnnParams><networks><network><inputTensors><inputTensor><dimensions><dimension size="SIZE" ordinal="0"/>
<dimension size="SIZE" ordinal="1"/><dimension size="3" ordinal="2"/></dimensions></inputTensor></inputTensors>
</network></networks></dnnParams>
XML
"""


def fake_converter(path: Path, size: int) -> Path:
    """A converter that does what imxconv-tf does to vsq's eyes in 10 ms (a model of `size` x `size` fits)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(FAKE_CONVERTER.replace("SIZE", str(size)))
    path.chmod(0o755)
    return path


# --- model configurations as Keras 2.15 writes them ----------------------------------------------------------

def layer(class_name: str, name: str, **config) -> dict:
    return {"class_name": class_name, "config": {"name": name, "trainable": True, "dtype": "float32", **config},
            "name": name, "inbound_nodes": []}


# Keras stores a lambda's marshalled bytecode in base64; the guard never decodes it, so any bytes do.
LAMBDA = layer("Lambda", "double", function=["4wEAAAAAAAAA", None, None], function_type="lambda",
               module="__main__", output_shape=None, output_shape_type="raw", output_shape_module=None, arguments={})


def tf_op(function: str) -> dict:
    """A TFOpLambda layer, as Keras writes `tf.<function>(x)` called on a Keras tensor."""
    return layer("TFOpLambda", f"tf.{function}", function=function)


def model_config(*layers: dict) -> dict:
    """A functional model's configuration: an input layer, then `layers`."""
    return {"class_name": "Functional", "config": {
        "name": "model", "trainable": True,
        "layers": [layer("InputLayer", "input_1", batch_input_shape=[None, 16, 16, 3], sparse=False, ragged=False),
                   *layers],
        "input_layers": [["input_1", 0, 0]], "output_layers": [[layers[-1]["name"] if layers else "input_1", 0, 0]]}}


def write_h5(path: Path, config: dict) -> Path:
    """An HDF5 file as Keras' legacy format stores a model: the configuration in the model_config attribute."""
    import h5py

    with h5py.File(path, "w") as handle:
        handle.attrs["model_config"] = json.dumps(config)
        handle.attrs["keras_version"] = "2.15.0"
        handle.attrs["backend"] = "tensorflow"
        handle.create_group("model_weights")
    return path


def keras_zip(config: dict) -> bytes:
    """A Keras v3 (.keras) archive: config.json, metadata.json, model.weights.h5."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "2.15.0"}))
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.weights.h5", b"")
    return buffer.getvalue()


def append(path: Path, data: bytes) -> Path:
    with open(path, "ab") as out:
        out.write(data)
    return path


# --- SavedModel: protobuf wire format by hand (TensorFlow's saved_metadata.proto, saved_model.proto) ---------

def _varint(value: int) -> bytes:
    out = b""
    while True:
        bits, value = value & 0x7F, value >> 7
        out += bytes([bits | (0x80 if value else 0)])
        if not value:
            return out


def field(number: int, payload: bytes | str) -> bytes:
    """A length-delimited field (strings, bytes, messages)."""
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def keras_metadata(nodes: list[tuple[str, str, dict]]) -> bytes:
    """keras_metadata.pb: SavedMetadata{repeated SavedObject nodes = 1}, SavedObject{node_path = 3,
    identifier = 4, metadata = 5 (JSON)}; nodes are (path, identifier, metadata)."""
    return b"".join(field(1, field(3, path) + field(4, identifier) + field(5, json.dumps(metadata)))
                    for path, identifier, metadata in nodes)


def saved_model_with_legacy_metadata(nodes: list[tuple[str, dict]]) -> bytes:
    """saved_model.pb of before TF 2.5: SavedModel{meta_graphs = 2}, MetaGraphDef{object_graph_def = 7},
    SavedObjectGraph{nodes = 1}, SavedObject{user_object = 4}, SavedUserObject{identifier = 1, metadata = 3}."""
    objects = b"".join(field(1, field(4, field(1, identifier) + field(3, json.dumps(metadata))))
                       for identifier, metadata in nodes)
    return field(2, field(7, objects))


def write_saved_model(folder: Path, layers: list[dict], legacy: bool = False) -> Path:
    """A SavedModel folder whose Keras metadata revives `layers` (keras_metadata.pb, or with legacy=True the
    metadata inside saved_model.pb, which Keras reads when keras_metadata.pb is absent)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "variables").mkdir(exist_ok=True)
    model = model_config(*layers)
    nodes = [("root", "_tf_keras_network", model)] + [
        (f"root.layer-{i}", "_tf_keras_layer", {"class_name": item["class_name"], "config": item["config"]})
        for i, item in enumerate(layers, 1)]
    if legacy:
        (folder / "saved_model.pb").write_bytes(saved_model_with_legacy_metadata(
            [(identifier, metadata) for _, identifier, metadata in nodes]))
    else:
        (folder / "saved_model.pb").write_bytes(field(2, b""))
        (folder / "keras_metadata.pb").write_bytes(keras_metadata(nodes))
    return folder


def link(path: Path, target: Path | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path)
    return path


# --- images ---------------------------------------------------------------------------------------------------

def pixel_bomb_png(path: Path, side: int = 13_000) -> Path:
    """A 1-bit black PNG of side x side pixels, written chunk by chunk: ~20 KB on disk, side² x 3 bytes once
    Pillow decodes it to RGB (507 MB at 13,000, under Pillow's own limit of 179 megapixels)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer, row = zlib.compressobj(9), b"\0" * (1 + (side + 7) // 8)  # filter byte, then the bits
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
                     + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return path


EPS = b"""%!PS-Adobe-3.0 EPSF-3.0
%%BoundingBox: 0 0 20 20
%%EndComments
newpath 0 0 moveto 20 0 lineto 20 20 lineto closepath fill
showpage
%%EOF
"""
