"""What a configuration asks for, checked before any heavy work: the file against its schema, the typed
Config, the image folders and labels.json (a Job). No TensorFlow, no numpy at import."""
