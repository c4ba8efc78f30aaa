"""The framework seam: loading, running, quantizing, exporting and explaining a model go through one
small interface, one implementation per framework (Keras today)."""
