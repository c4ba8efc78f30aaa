"""The detection task: COCO annotations, mAP, paired bootstrap, per-image matching, letterbox, the box-format screen."""
