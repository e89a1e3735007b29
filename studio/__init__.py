"""studio: six generative-AI demos in one Gradio app."""

__version__ = "0.1.0"
