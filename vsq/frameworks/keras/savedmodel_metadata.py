"""The Keras metadata of a SavedModel folder, read without TensorFlow: what Keras 2.15 revives layers from.

Keras' SavedModel loader (keras/src/saving/legacy/saved_model/load.py) reads keras_metadata.pb, a
SavedMetadata protobuf whose nodes carry each Keras object's JSON configuration; without that file it reads
the same JSON from saved_model.pb's object graph (SavedUserObject.metadata, SavedModels written before
TensorFlow 2.5). The messages below declare only the fields read here, with TensorFlow's field numbers
(tensorflow/python/keras/protobuf/saved_metadata.proto, tensorflow/core/protobuf/saved_model.proto,
meta_graph.proto, saved_object_graph.proto); protobuf skips the fields it is not told about.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

KERAS_METADATA = "keras_metadata.pb"
SAVED_MODEL = "saved_model.pb"
# The node identifiers Keras revives (keras/src/saving/legacy/saved_model/constants.py: KERAS_OBJECT_IDENTIFIERS).
KERAS_IDENTIFIERS = ("_tf_keras_input_layer", "_tf_keras_layer", "_tf_keras_metric", "_tf_keras_model",
                     "_tf_keras_network", "_tf_keras_rnn_layer", "_tf_keras_sequential")

# message -> [(field, number, type, repeated, message type)]; types: 5 int32, 9 string, 11 message.
_MESSAGES = {
    "KerasMetadata": [("nodes", 1, 11, True, "KerasNode")],
    "KerasNode": [("node_id", 2, 5, False, None), ("node_path", 3, 9, False, None),
                  ("identifier", 4, 9, False, None), ("metadata", 5, 9, False, None)],
    "SavedModel": [("meta_graphs", 2, 11, True, "MetaGraphDef")],
    "MetaGraphDef": [("object_graph_def", 7, 11, False, "SavedObjectGraph")],
    "SavedObjectGraph": [("nodes", 1, 11, True, "SavedObject")],
    "SavedObject": [("user_object", 4, 11, False, "SavedUserObject")],
    "SavedUserObject": [("identifier", 1, 9, False, None), ("metadata", 3, 9, False, None)],
}


class MetadataError(ValueError):
    """The metadata cannot be read (Keras could not read it either, or would read it differently)."""


@lru_cache(maxsize=1)
def _classes() -> dict:
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    proto = descriptor_pb2.FileDescriptorProto(name="vsq_keras_savedmodel.proto", package="vsq_keras", syntax="proto3")
    for name, fields in _MESSAGES.items():
        message = proto.message_type.add(name=name)
        for field_name, number, kind, repeated, type_name in fields:
            message.field.add(name=field_name, number=number, type=kind, label=3 if repeated else 1,
                              **({"type_name": f".vsq_keras.{type_name}"} if type_name else {}))
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return {name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"vsq_keras.{name}"))
            for name in _MESSAGES}


def _parse(kind: str, data: bytes, file: Path):
    from google.protobuf.message import DecodeError

    message = _classes()[kind]()
    try:
        message.ParseFromString(data)
    except (DecodeError, RecursionError) as error:
        raise MetadataError(f"{file.name} cannot be parsed ({error or 'not a protobuf message'})") from None
    return message


def keras_configs(folder: Path) -> list[dict]:
    """The JSON configurations Keras revives from a SavedModel folder, as it chooses them."""
    folder = Path(folder)
    metadata = folder / KERAS_METADATA
    if metadata.exists():
        texts = [node.metadata for node in _parse("KerasMetadata", metadata.read_bytes(), metadata).nodes]
    else:
        saved = folder / SAVED_MODEL
        graphs = _parse("SavedModel", saved.read_bytes(), saved).meta_graphs
        objects = graphs[0].object_graph_def.nodes if graphs else []
        texts = [node.user_object.metadata for node in objects if node.user_object.identifier in KERAS_IDENTIFIERS]
    configs = []
    for text in texts:
        if not text:
            continue
        try:
            configs.append(json.loads(text))
        except (ValueError, RecursionError) as error:
            raise MetadataError(f"the Keras metadata of {folder.name} is not JSON ({error})") from None
    return configs
