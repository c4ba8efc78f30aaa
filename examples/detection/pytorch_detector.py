"""The bundled detector (examples/make_detection_example.py's Keras SSD-style model) in PyTorch, ending in
edge-mdt-cl's MulticlassNMS: the architecture examples/detection-pytorch.json names ("pytorch_architecture"),
filled with examples/detection/pytorch_detector.pt (the Keras model's weights, converted by
`python examples/make_detection_example.py --pytorch`).

The contract (as the Keras model's): input float32 (N, 3, 64, 64) RGB, pixel / 255, the image stretched to 64 x 64.
Outputs, edge-mdt-cl's NMSResults: boxes (N, 16, 4) as (y_min, x_min, y_max, x_max) normalised to 0..1, scores
(N, 16), labels (N, 16) 0-based (COCO category_id = label + 1), n_valid (N, 1).

Box decoding is SSD's (edge-mdt-cl's FasterRCNNBoxDecode, in torch ops so that MCT quantizes it as the network),
each corner clamped to 0..1 on its own: MCT gives every activation one 8-bit range, and corners concatenated before
one clamp share it with the centre and size arithmetic (1.5 px steps on a 64 px input, measured).
"""

import torch
from torch import nn

from edgemdt_cl.pytorch import MulticlassNMS


def anchors(levels) -> torch.Tensor:
    """(n, 4) anchors (y_min, x_min, y_max, x_max) normalised, in the order the heads emit them: per level
    (feature map side, anchor sides), row by row, column by column, size by size."""
    rows = []
    for side, sizes in levels:
        for i in range(side):
            for j in range(side):
                cy, cx = (i + 0.5) / side, (j + 0.5) / side
                rows += [[cy - s / 2, cx - s / 2, cy + s / 2, cx + s / 2] for s in sizes]
    return torch.tensor(rows, dtype=torch.float32)


def block(channels_in: int, channels_out: int) -> nn.Sequential:
    """3x3 'same' convolution without bias, batch normalisation (Keras' epsilon), ReLU."""
    return nn.Sequential(nn.Conv2d(channels_in, channels_out, 3, padding=1, bias=False),
                         nn.BatchNorm2d(channels_out, eps=1e-3), nn.ReLU())


class ShapesSSD(nn.Module):
    def __init__(self, classes: int = 4, anchor_levels=((8, (0.16, 0.26)), (4, (0.4, 0.6))),
                 scale_factors=(10.0, 10.0, 5.0, 5.0), score_threshold: float = 0.05, iou_threshold: float = 0.5,
                 max_detections: int = 16):
        super().__init__()
        self.b1, self.b2, self.b3, self.b4, self.b5 = (block(i, o) for i, o in ((3, 16), (16, 32), (32, 48), (48, 64),
                                                                                 (64, 64)))
        self.pool = nn.MaxPool2d(2)
        per_cell = [len(sizes) for _, sizes in anchor_levels]
        self.counts = tuple(int(side) ** 2 * n for (side, _), n in zip(anchor_levels, per_cell))  # anchors per level
        self.codes = nn.ModuleList(nn.Conv2d(64, 4 * n, 3, padding=1) for n in per_cell)
        self.logits = nn.ModuleList(nn.Conv2d(64, classes * n, 3, padding=1) for n in per_cell)
        self.classes = classes
        corners = anchors(anchor_levels)
        sizes = corners[:, 2:] - corners[:, :2]
        # Computed from the arguments, not saved with the weights.
        self.register_buffer("anchor_centres", corners[:, :2] + sizes / 2, persistent=False)  # (n, 2): y, x
        self.register_buffer("anchor_sizes", sizes, persistent=False)  # (n, 2): height, width
        self.register_buffer("scale", torch.tensor(scale_factors, dtype=torch.float32), persistent=False)
        self.nms = MulticlassNMS(score_threshold, iou_threshold, max_detections)

    def forward(self, x):
        x = self.pool(self.b3(self.pool(self.b2(self.pool(self.b1(x))))))
        fine = self.b4(x)  # 8 x 8
        coarse = self.b5(self.pool(fine))  # 4 x 4
        codes, logits = [], []
        for feature, count, code_head, logit_head in zip((fine, coarse), self.counts, self.codes, self.logits):
            # NHWC order before the reshape, as the Keras model's Reshape reads its channels-last output
            codes.append(code_head(feature).permute(0, 2, 3, 1).reshape(-1, count, 4))
            logits.append(logit_head(feature).permute(0, 2, 3, 1).reshape(-1, count, self.classes))
        codes = torch.cat(codes, dim=1) / self.scale
        centres = codes[..., :2] * self.anchor_sizes + self.anchor_centres
        half = torch.exp(codes[..., 2:]) * self.anchor_sizes / 2
        low, high = centres - half, centres + half
        boxes = torch.stack([nn.functional.hardtanh(corner, 0.0, 1.0) for corner in
                             (low[..., 0], low[..., 1], high[..., 0], high[..., 1])], dim=-1)
        return self.nms(boxes, torch.sigmoid(torch.cat(logits, dim=1)))
