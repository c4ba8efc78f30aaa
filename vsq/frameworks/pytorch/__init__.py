"""PyTorch models: an eager nn.Module built by an entry point and filled from a weights-only state_dict,
MCT's PyTorch recipes, its ONNX export (MCTQ, what Sony's imxconv-pt reads) run by ONNX Runtime, MCT
XQuant. Runs in its own environment (.venv-torch, scripts/setup_pytorch.sh)."""
