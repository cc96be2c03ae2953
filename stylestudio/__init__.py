"""StyleStudio: learn an artistic style with a GAN and apply it to photos."""

__version__ = "0.1.0"
