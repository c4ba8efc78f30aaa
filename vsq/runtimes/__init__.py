"""Runtimes that run exported model files (TFLite today), pinned and recorded so that figures move only
with the model, and what those files hold."""
